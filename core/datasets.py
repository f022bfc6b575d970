"""Where training and evaluation code finds the research-only datasets.

Those sets (RentTheRunway, Polyvore, VITON-HD, ANSUR II, ModCloth) are licensed
for research only, so they are never copied into the repository or read at run
time by the product. When one is absent, the error names every place it looked,
so a person knows what to download and where to put it.
"""

from __future__ import annotations

from pathlib import Path

from core.config import Settings

RESEARCH_DATASETS = {
    "renttherunway_fit": "RentTheRunway fit feedback (Misra et al., RecSys 2018), research use",
    "modcloth_fit": "ModCloth fit feedback sample (Misra et al., RecSys 2018), research use",
    "polyvore_maryland": "Maryland Polyvore outfits (Han et al., MM 2017), research use",
    "polyvore_outfits_vasileva_partial": "Polyvore Outfits (Vasileva et al., ECCV 2018), research use",
    "viton_hd_sample": "VITON-HD test sample (Choi et al., CVPR 2021), CC BY-NC 4.0",
    "ansur_ii": "ANSUR II anthropometric survey (US Army, 2012), public domain",
}


class ResearchDataMissing(FileNotFoundError):
    pass


def research_dataset(name: str, settings: Settings) -> Path:
    """The folder of a research dataset, or an error that says where it looked."""
    if name not in RESEARCH_DATASETS:
        raise KeyError(f"unknown research dataset {name!r}; known: {', '.join(sorted(RESEARCH_DATASETS))}")
    folder = settings.research_data_dir / name
    if not folder.is_dir():
        raise ResearchDataMissing(
            f"research dataset {name!r} ({RESEARCH_DATASETS[name]}) not found at {folder}. "
            f"Set IK_RESEARCH_DATA_DIR to the folder that holds {name}/ (the repository expects "
            f"shared/datasets/ beside it). Research data is never shipped with the product."
        )
    return folder


def catalog_file(settings: Settings, name: str = "styles_clean.jsonl.gz") -> Path:
    """A file of the product catalog shipped in ``data/catalog``."""
    path = settings.catalog_dir / name
    if not path.is_file():
        raise FileNotFoundError(
            f"catalog file {path} is missing; it ships with the repository under data/catalog/"
        )
    return path
