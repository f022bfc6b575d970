// Cards a reply carries: catalogue products, pictures, and jobs (a try-on or a generated image)
// that finish later: those are polled until final, then show their picture.
import { useEffect, useState } from "react";
import { api, ApiError, SignedOut } from "../api";
import { AuthImage } from "../components/AuthImage";
import { useT } from "../i18n";
import { STRINGS } from "./strings";
import type { Card } from "./types";

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1_000;

function price(value: unknown): string | null {
  const n = typeof value === "number" ? value : Number(value);
  if (value === null || value === undefined || !Number.isFinite(n)) return null;
  return `¥${Number.isInteger(n) ? n : n.toFixed(2)}`;
}

function NoPhoto() {
  const t = useT(STRINGS);
  return (
    <div className="chat-card-noimg" data-testid="product-card-no-photo">
      {t("noPhoto")}
    </div>
  );
}

function ProductCard({ card }: { card: Card }) {
  const t = useT(STRINGS);
  const amount = price(card.data.price);
  const sizes = Array.isArray(card.data.sizes_available) ? (card.data.sizes_available as string[]) : [];
  const inStock = card.data.in_stock;
  return (
    <article className="chat-card product" data-testid="product-card" data-product-id={card.id}>
      {card.image_url ? (
        <AuthImage
          src={card.image_url}
          alt={card.title ?? card.id}
          className="chat-card-img"
          testId="product-card-image"
          placeholder={<NoPhoto />}
        />
      ) : (
        <NoPhoto />
      )}
      <div className="chat-card-body">
        <div className="chat-card-title" data-testid="product-card-title">{card.title ?? card.id}</div>
        <div className="row chat-card-meta">
          {amount && <span className="chat-price" data-testid="product-card-price">{amount}</span>}
          {typeof card.data.outfit === "number" && <span className="badge">{t("outfit", { n: card.data.outfit })}</span>}
          {card.data.wardrobe === true && <span className="badge">{t("yours")}</span>}
          {inStock === true && <span className="badge ok" data-testid="product-card-stock">{t("inStock")}</span>}
          {inStock === false && <span className="badge bad" data-testid="product-card-stock">{t("soldOut")}</span>}
        </div>
        {sizes.length > 0 && <div className="muted chat-card-sizes">{t("sizes", { sizes: sizes.join(" · ") })}</div>}
      </div>
    </article>
  );
}

function ImageCard({ card }: { card: Card }) {
  return (
    <article className="chat-card image" data-testid="image-card">
      {card.image_url && <AuthImage src={card.image_url} alt={card.title ?? ""} className="chat-card-picture" testId="image-card-image" />}
      {card.title && <div className="chat-card-title">{card.title}</div>}
    </article>
  );
}

interface JobState {
  status: string;
  progress: number;
  error_message?: string | null;
  has_result?: boolean;
}

function jobPaths(card: Card): { read: string; result: string } {
  const events = String(card.data.events_url ?? "");
  const base = events.includes("/images/jobs/") ? "images/jobs" : "tryon/jobs";
  const id = encodeURIComponent(card.id);
  return { read: `${base}/${id}`, result: `/api/v1/${base}/${id}/result` };
}

function JobCard({ card }: { card: Card }) {
  const t = useT(STRINGS);
  const [job, setJob] = useState<JobState>({
    status: String(card.data.status ?? "queued"),
    progress: Number(card.data.progress ?? 0),
  });
  const [problem, setProblem] = useState<string | null>(null);
  const paths = jobPaths(card);

  useEffect(() => {
    if (FINAL.has(job.status)) return;
    let live = true;
    const timer = window.setTimeout(async () => {
      try {
        const next = await api<JobState>(paths.read);
        if (live) {
          setJob(next);
          setProblem(null);
        }
      } catch (err) {
        if (!live || err instanceof SignedOut) return;
        setProblem(err instanceof ApiError ? err.detail : String(err));
        // Network trouble: the next tick tries again.
        setJob((j) => ({ ...j }));
      }
    }, POLL_MS);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [job, paths.read]);

  const percent = Math.round(Math.min(1, Math.max(0, job.progress)) * 100);
  let label: string;
  if (job.status === "succeeded") label = t("jobSucceeded");
  else if (job.status === "failed") label = t("jobFailed", { detail: job.error_message ?? "" });
  else if (job.status === "cancelled") label = t("jobCancelled");
  else if (job.status === "running") label = t("jobRunning", { p: percent });
  else label = t("jobQueued");

  return (
    <article className="chat-card job" data-testid="job-card" data-status={job.status}>
      <div className="chat-card-title">{card.title}</div>
      {job.status === "succeeded" ? (
        <AuthImage src={card.image_url ?? paths.result} alt={t("tryonResult", { title: card.title ?? "" })} className="chat-card-picture" testId="job-result" />
      ) : (
        !FINAL.has(job.status) && (
          <progress max={100} value={job.status === "running" ? percent : undefined} data-testid="job-progress" />
        )
      )}
      <div className={job.status === "failed" ? "error" : "muted"} data-testid="job-status">{label}</div>
      {problem && <div className="muted">{problem}</div>}
    </article>
  );
}

function ProfileCard({ card }: { card: Card }) {
  const facts = Array.isArray(card.data.facts) ? (card.data.facts as unknown[]).map(String) : [];
  return (
    <article className="chat-card profile" data-testid="profile-card">
      {card.title && <div className="chat-card-title">{card.title}</div>}
      <ul>
        {facts.map((fact) => (
          <li key={fact}>{fact}</li>
        ))}
      </ul>
    </article>
  );
}

export function Cards({ cards }: { cards: Card[] }) {
  if (!cards.length) return null;
  return (
    <div className="chat-cards">
      {cards.map((card, index) => {
        const key = `${card.kind}-${card.id}-${index}`;
        if (card.kind === "product") return <ProductCard key={key} card={card} />;
        if (card.kind === "image") return <ImageCard key={key} card={card} />;
        if (card.kind === "job") return <JobCard key={key} card={card} />;
        return <ProfileCard key={key} card={card} />;
      })}
    </div>
  );
}
