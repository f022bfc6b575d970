// The admin view's tables: requests per route, accounts per role, background jobs.
import { useT } from "../i18n";
import { STRINGS } from "./strings";
import type { AdminMetrics, RouteStats } from "./types";

export function seconds(value: number | null): string {
  if (value === null) return "—";
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.01 ? 2 : 1)}%`;
}

export function RouteTable({ routes }: { routes: RouteStats[] }) {
  const t = useT(STRINGS);
  if (!routes.length) return <p className="muted">{t("noRequests")}</p>;
  return (
    <div className="admin-scroll">
      <table data-testid="routes-table">
        <thead>
          <tr>
            <th>{t("method")}</th>
            <th>{t("route")}</th>
            <th className="num">{t("count")}</th>
            <th className="num">{t("errors4xx")}</th>
            <th className="num">{t("errors5xx")}</th>
            <th className="num">{t("errorRate")}</th>
            <th className="num">{t("p50")}</th>
            <th className="num">{t("p95")}</th>
            <th className="num">{t("mean")}</th>
          </tr>
        </thead>
        <tbody>
          {routes.map((r) => (
            <tr key={`${r.method} ${r.route}`} data-testid="route-row" data-route={r.route} data-method={r.method}>
              <td>{r.method}</td>
              <td className="route">{r.route}</td>
              <td className="num" data-testid="route-count">{r.requests}</td>
              <td className="num">{r.client_errors}</td>
              <td className={`num${r.server_errors ? " error" : ""}`}>{r.server_errors}</td>
              <td className="num">{percent(r.error_rate)}</td>
              <td className="num" data-testid="route-p50">{seconds(r.p50_s)}</td>
              <td className="num" data-testid="route-p95">{seconds(r.p95_s)}</td>
              <td className="num">{seconds(r.mean_s)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AccountsTable({ accounts }: { accounts: AdminMetrics["accounts"] }) {
  const t = useT(STRINGS);
  return (
    <table data-testid="accounts-table">
      <thead>
        <tr>
          <th>{t("role")}</th>
          <th className="num">{t("active")}</th>
          <th className="num">{t("disabled")}</th>
        </tr>
      </thead>
      <tbody>
        {accounts.map((a) => (
          <tr key={a.role} data-testid="account-row" data-role={a.role}>
            <td>{a.role}</td>
            <td className="num" data-testid="account-active">{a.active}</td>
            <td className="num">{a.disabled}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function JobsTable({ jobs }: { jobs: AdminMetrics["jobs"] }) {
  const t = useT(STRINGS);
  const rows = Object.entries(jobs).flatMap(([kind, statuses]) => Object.entries(statuses).map(([status, n]) => ({ kind, status, n })));
  if (!rows.length) return <p className="muted" data-testid="jobs-empty">{t("noJobs")}</p>;
  return (
    <table data-testid="jobs-table">
      <thead>
        <tr>
          <th>{t("kind")}</th>
          <th>{t("status")}</th>
          <th className="num">{t("count")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.kind}-${row.status}`}>
            <td>{row.kind}</td>
            <td>{row.status}</td>
            <td className="num">{row.n}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
