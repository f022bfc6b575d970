// The admin figures as `GET /admin/metrics` returns them (see api/routers/admin.py for each field).

export interface RouteStats {
  method: string;
  route: string;
  requests: number;
  by_status: Record<string, number>;
  client_errors: number;
  server_errors: number;
  error_rate: number;
  p50_s: number | null;
  p95_s: number | null;
  mean_s: number | null;
}

export interface AdminMetrics {
  generated_at: string;
  requests_total: number;
  server_errors_total: number;
  routes: RouteStats[];
  sessions: { live: number; with_support: number; waiting_for_support: number; taken_over: number };
  accounts: { role: string; active: number; disabled: number }[];
  products: number;
  jobs: Record<string, Record<string, number>>;
  support_notes: number;
}
