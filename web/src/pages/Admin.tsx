// The admin view: the API's own figures (requests, errors, latency per route), live conversations,
// accounts, catalogue and job queues, refreshed every 10 s. /metrics keeps the raw series.
import { useCallback, useEffect, useState } from "react";
import { api, SignedOut, type Me } from "../api";
import { STRINGS } from "../admin/strings";
import { AccountsTable, JobsTable, RouteTable } from "../admin/Tables";
import type { AdminMetrics } from "../admin/types";
import "../admin/admin.css";
import { describe } from "../console/strings";
import { useLocale, useT } from "../i18n";

const REFRESH_MS = 10_000;

function Tile({ label, value, testId }: { label: string; value: number | string; testId: string }) {
  return (
    <div className="admin-tile" data-testid={testId}>
      <span className="muted">{label}</span>
      <strong data-testid={`${testId}-value`}>{value}</strong>
    </div>
  );
}

export default function AdminPage({ me }: { me: Me }) {
  const t = useT(STRINGS);
  const { locale } = useLocale();
  const [metrics, setMetrics] = useState<AdminMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");

  const load = useCallback(async () => {
    try {
      setMetrics(await api<AdminMetrics>("admin/metrics"));
      setError(null);
    } catch (failure) {
      if (!(failure instanceof SignedOut)) setError(describe(failure));
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = window.setInterval(() => {
      if (document.visibilityState === "visible") void load();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [load]);

  const routes = metrics?.routes.filter((r) => !filter || r.route.toLowerCase().includes(filter.toLowerCase())) ?? [];
  return (
    <div className="admin" data-testid="admin-page" data-admin={me.id}>
      <div className="row admin-head">
        <h1>{t("title")}</h1>
        <a href="/metrics" target="_blank" rel="noreferrer" data-testid="raw-metrics">{t("raw")}</a>
      </div>
      {error && <p className="error" role="alert" data-testid="admin-error">{t("error", { detail: error })}</p>}
      {!metrics && !error && <p className="muted">{t("loading")}</p>}
      {metrics && (
        <>
          <p className="muted" data-testid="admin-updated">
            {t("updated", { time: new Date(metrics.generated_at).toLocaleTimeString(locale === "zh" ? "zh-CN" : "en-GB") })}
          </p>
          <div className="admin-tiles">
            <Tile label={t("total")} value={metrics.requests_total} testId="tile-requests" />
            <Tile label={t("serverErrors")} value={metrics.server_errors_total} testId="tile-errors" />
            <Tile label={t("live")} value={metrics.sessions.live} testId="tile-live" />
            <Tile label={t("withSupport")} value={metrics.sessions.with_support} testId="tile-support" />
            <Tile label={t("waiting")} value={metrics.sessions.waiting_for_support} testId="tile-waiting" />
            <Tile label={t("takenOver")} value={metrics.sessions.taken_over} testId="tile-taken" />
            <Tile label={t("products")} value={metrics.products} testId="tile-products" />
            <Tile label={t("notes")} value={metrics.support_notes} testId="tile-notes" />
          </div>
          <section className="card stack">
            <div className="row admin-head">
              <h2>{t("requests")}</h2>
              <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={t("filter")} aria-label={t("filter")} data-testid="route-filter" />
            </div>
            <RouteTable routes={routes} />
            <p className="muted">{t("perProcess")}</p>
          </section>
          <div className="admin-grid">
            <section className="card stack">
              <h2>{t("accounts")}</h2>
              <AccountsTable accounts={metrics.accounts} />
            </section>
            <section className="card stack">
              <h2>{t("jobs")}</h2>
              <JobsTable jobs={metrics.jobs} />
            </section>
          </div>
        </>
      )}
    </div>
  );
}
