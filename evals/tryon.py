"""The embedded CPU try-on (``GeometricEngine``) on the VITON-HD test sample.

The sample has no paired ground truth: its 6 demo pairs are *unpaired* (no person wears the
cloth she is dressed in), so the paired SSIM/LPIPS of the literature cannot be computed. What
is measured instead, and what each figure can and cannot say:

* ``preservation_ssim``: SSIM between result and original over the pixels that must not change
  (parse labels other than upper clothes, arms and neck, after growing those by a margin):
  background, face, hair, legs. 1.0 means nothing outside the garment was touched.
* ``placement_iou``: IoU of ``garment_region`` with the parse's upper-clothes label. The new
  garment's sleeves and length differ from the old one's, so even a perfect try-on scores
  below 1; it tells whether the shirt lands where a shirt goes.
* ``colour_delta_e``: CIEDE2000 between the cloth's median Lab colour (inside its mask) and the
  result's inside ``garment_region``, beside the same distance for the original photo's own
  garment (what it would be if nothing changed). Shading is transferred on purpose, so 0 is
  not the goal; far below the "unchanged" figure is.
* ``whole_image_ssim_vs_original``: SSIM of the whole result against the *input* photo. It is
  NOT the paired metric of the literature (there it is against a photo of the person wearing
  the target cloth); it only shows how much of the picture changed.
* ``seconds_per_image`` at 768x1024, and ``person_checks`` on the 11 real photos and on bad
  inputs built from them.

``anchors`` quotes published paired figures for orientation only. LPIPS, FID and KID need
pretrained networks that cannot be fetched here, and 6 pairs are far too few for FID anyway.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.metrics import structural_similarity

from evals.measure import machine, percentile
from tools.tryon.engine import RGB, Mask, TryOnRejected, TryOnRequest
from tools.tryon.geometric import GeometricEngine
from tools.tryon.person import check_person

log = logging.getLogger(__name__)

SAMPLE = "viton_hd_sample"
#: VITON-HD parse labels a new top may change: upper clothes, neck, both arms.
CHANGEABLE = (5, 10, 14, 15)
UPPER_CLOTHES = 5
FACE = 13
#: Pixels the changeable labels are grown by before the rest counts as "must not change".
MARGIN_PX = 15

ANCHORS: dict[str, Any] = {
    "HR-VITON": {"ssim": 0.865, "lpips": 0.122},
    "CatVTON": {"ssim": 0.870, "lpips": 0.057},
    "Leffa": {"ssim": 0.899, "lpips": 0.048},
    "setting": "paired VITON-HD test set (Leffa paper table); not comparable to the figures above",
}
NOT_MEASURED = (
    "not_measured: needs pretrained AlexNet/VGG/Inception weights, which cannot be fetched on these machines"
)


def _rgb(path: Path) -> RGB:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _mask(path: Path) -> Mask:
    with Image.open(path) as img:
        return np.asarray(np.asarray(img.convert("L")) > 127)


def _parse(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


def sample_dir(data_dir: Path) -> Path:
    """The sample folder, whether ``data_dir`` is the research data root or the sample itself."""
    return data_dir / SAMPLE if (data_dir / SAMPLE).is_dir() else data_dir


def pairs(root: Path) -> list[tuple[str, str]]:
    lines = (root / "test_pairs.txt").read_text().splitlines()
    return [(a, b) for a, b in (line.split() for line in lines if line.strip())]


def _region_ssim(a: RGB, b: RGB, region: Mask) -> float:
    _, full = structural_similarity(a, b, channel_axis=2, data_range=255, full=True)  # type: ignore[no-untyped-call]
    return float(np.asarray(full).mean(axis=2)[region].mean())


def _median_lab(rgb: RGB, region: Mask) -> np.ndarray:
    return np.asarray(np.median(rgb2lab(rgb[region][None, :, :])[0], axis=0))


def _delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(deltaE_ciede2000(a[None, :], b[None, :])[0])  # type: ignore[no-untyped-call]


def _iou(a: Mask, b: Mask) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def _face_crop(rgb: RGB, parse: np.ndarray) -> RGB:
    """A tight crop around the face (the parse's face label, grown by a third)."""
    ys, xs = np.nonzero(parse == FACE)
    y0, y1, x0, x1 = ys.min(), ys.max(), xs.min(), xs.max()
    my, mx = (y1 - y0) // 3, (x1 - x0) // 3
    return np.ascontiguousarray(rgb[max(0, y0 - my) : y1 + my, max(0, x0 - mx) : x1 + mx])


def _check_code(rgb: RGB) -> str:
    try:
        check_person(rgb)
    except TryOnRejected as exc:
        return exc.code
    return "accepted"


def person_checks(root: Path) -> dict[str, Any]:
    real = sorted((root / "test" / "image").glob("*.jpg")) + sorted(
        (root / "extra_idm_vton_examples" / "person").glob("*.jpg")
    )
    codes = {p.stem: _check_code(_rgb(p)) for p in real}
    first, second = real[0], real[1]
    a, b = _rgb(first), _rgb(second)
    cloth = sorted((root / "test" / "cloth").glob("*.jpg"))[0]
    bad = {
        "garment_photo": ("no_person", _check_code(_rgb(cloth))),
        "two_people_side_by_side": ("several_people", _check_code(np.hstack([a, b]))),
        "face_crop": (
            "face_only",
            _check_code(_face_crop(a, _parse(root / "test" / "image-parse" / f"{first.stem}.png"))),
        ),
    }
    return {
        "real_photos": len(real),
        "accepted": sum(code == "accepted" for code in codes.values()),
        "real_codes": codes,
        "bad_inputs": {name: {"expected": want, "got": got} for name, (want, got) in bad.items()},
        "bad_inputs_correct": sum(want == got for want, got in bad.values()),
    }


def _evaluate_pair(
    engine: GeometricEngine, root: Path, person_id: str, cloth_id: str
) -> tuple[dict[str, Any], RGB]:
    test = root / "test"
    person = _rgb(test / "image" / person_id)
    cloth = _rgb(test / "cloth" / cloth_id)
    cloth_mask = _mask(test / "cloth-mask" / cloth_id)
    parse = _parse(test / "image-parse" / (Path(person_id).stem + ".png"))
    started = time.perf_counter()
    result = engine.run(TryOnRequest(person=person, garment=cloth, kind="upper", garment_mask=cloth_mask))
    seconds = time.perf_counter() - started
    region = result.garment_region if result.garment_region is not None else np.zeros(parse.shape, dtype=bool)
    changeable = np.isin(parse, CHANGEABLE).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * MARGIN_PX + 1, 2 * MARGIN_PX + 1))
    keep = cv2.dilate(changeable, kernel) == 0
    cloth_lab = _median_lab(cloth, cloth_mask)
    old = parse == UPPER_CLOTHES
    record = {
        "person": person_id,
        "cloth": cloth_id,
        "preservation_ssim": round(_region_ssim(result.image, person, keep), 4),
        "placement_iou": round(_iou(region, old), 4),
        "colour_delta_e": round(_delta_e(cloth_lab, _median_lab(result.image, region)), 2)
        if region.any()
        else None,
        "colour_delta_e_if_unchanged": round(_delta_e(cloth_lab, _median_lab(person, old)), 2),
        "whole_image_ssim_vs_original": round(
            float(structural_similarity(result.image, person, channel_axis=2, data_range=255)),  # type: ignore[no-untyped-call]
            4,
        ),
        "seconds": round(seconds, 3),
        "timings_ms": result.timings_ms,
    }
    return record, result.image


def _mean(records: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return round(float(np.mean(values)), 4) if values else None


def _sheet(rows: list[tuple[RGB, RGB, RGB]], path: Path) -> None:
    tiles = [
        np.hstack([np.asarray(Image.fromarray(x).resize((288, 384), Image.Resampling.BILINEAR)) for x in row])
        for row in rows
    ]
    Image.fromarray(np.vstack(tiles)).save(path)


def run(
    data_dir: Path, *, limit: int | None = None, out_dir: Path | None = None, timing_all: bool | None = None
) -> dict[str, Any]:
    """Evaluate the geometric engine on the sample's demo pairs (``limit`` of them) and, when
    ``timing_all`` (default: when ``limit`` is None), time all 72 person x cloth combinations."""
    root = sample_dir(data_dir)
    demo = pairs(root)[:limit] if limit is not None else pairs(root)
    engine = GeometricEngine()
    # warm the MediaPipe graphs so the first pair's time is not their construction
    engine.run(
        TryOnRequest(
            person=_rgb(root / "test" / "image" / demo[0][0]),
            garment=_rgb(root / "test" / "cloth" / demo[0][1]),
            kind="upper",
            garment_mask=_mask(root / "test" / "cloth-mask" / demo[0][1]),
        )
    )
    records, sheet = [], []
    for person_id, cloth_id in demo:
        record, image = _evaluate_pair(engine, root, person_id, cloth_id)
        records.append(record)
        sheet.append(
            (_rgb(root / "test" / "image" / person_id), _rgb(root / "test" / "cloth" / cloth_id), image)
        )
        log.info("try-on %s + %s: %s", person_id, cloth_id, record)
    seconds = [r["seconds"] for r in records]
    if timing_all if timing_all is not None else limit is None:
        people = sorted(p.name for p in (root / "test" / "image").glob("*.jpg"))
        cloths = sorted(p.name for p in (root / "test" / "cloth").glob("*.jpg"))
        seconds = []
        for person_id in people:
            person = _rgb(root / "test" / "image" / person_id)
            for cloth_id in cloths:
                request = TryOnRequest(
                    person=person,
                    garment=_rgb(root / "test" / "cloth" / cloth_id),
                    kind="upper",
                    garment_mask=_mask(root / "test" / "cloth-mask" / cloth_id),
                )
                started = time.perf_counter()
                engine.run(request)
                seconds.append(time.perf_counter() - started)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _sheet(sheet, out_dir / "tryon_contact_sheet.png")
    return {
        "engine": engine.name,
        "dataset": "VITON-HD test sample (CC BY-NC 4.0), unpaired demo pairs: no ground-truth try-on",
        "pairs": records,
        "preservation_ssim": {
            "mean": _mean(records, "preservation_ssim"),
            "region": "parse labels outside upper clothes, neck and arms, grown by 15 px",
        },
        "placement_iou": {
            "mean": _mean(records, "placement_iou"),
            "note": "vs the parse's old upper clothes; sleeve and garment length differ between "
            "garments, so 1.0 is not reachable",
        },
        "colour_delta_e": {
            "mean": _mean(records, "colour_delta_e"),
            "mean_if_unchanged": _mean(records, "colour_delta_e_if_unchanged"),
            "note": "CIEDE2000 of median Lab colours; shading is transferred on purpose",
        },
        "whole_image_ssim_vs_original": {
            "mean": _mean(records, "whole_image_ssim_vs_original"),
            "note": "against the input photo, NOT the paired SSIM of the literature",
        },
        "seconds_per_image": {
            "n": len(seconds),
            "p50": percentile(seconds, 50, digits=3),
            "p95": percentile(seconds, 95, digits=3),
            "mean": round(float(np.mean(seconds)), 3) if seconds else None,
            "size": "768x1024",
        },
        "machine": machine(),
        "person_checks": person_checks(root),
        "anchors": ANCHORS,
        "lpips": {"value": None, "reason": NOT_MEASURED},
        "fid": {"value": None, "reason": NOT_MEASURED + "; and 6 pairs are far too few for FID"},
        "kid": {"value": None, "reason": NOT_MEASURED + "; and 6 pairs are far too few for KID"},
    }


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['engine']} on {result['dataset']}"]
    lines.append(
        f"{'pair':24s} {'preserve SSIM':>13s} {'place IoU':>9s} {'dE00':>6s} {'whole SSIM':>10s} {'s':>6s}"
    )
    for r in result["pairs"]:
        lines.append(
            f"{r['person'] + ' + ' + r['cloth']:24s} {r['preservation_ssim']:13.3f} "
            f"{r['placement_iou']:9.3f} {r['colour_delta_e']:6.2f} "
            f"{r['whole_image_ssim_vs_original']:10.3f} {r['seconds']:6.2f}"
        )
    seconds = result["seconds_per_image"]
    lines.append(
        f"mean: preservation SSIM {result['preservation_ssim']['mean']}, placement IoU "
        f"{result['placement_iou']['mean']}, dE00 {result['colour_delta_e']['mean']} (unchanged "
        f"{result['colour_delta_e']['mean_if_unchanged']}); {seconds['n']} images at {seconds['size']}: "
        f"p50 {seconds['p50']} s, p95 {seconds['p95']} s"
    )
    checks = result["person_checks"]
    lines.append(f"person checks: {checks}")
    lines.append("LPIPS / FID / KID: not measured (no pretrained networks can be fetched here)")
    return "\n".join(lines)
