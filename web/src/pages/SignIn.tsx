// Sign in or create an account. Whatever the person was typing in the chat is kept in
// localStorage by the chat page, so being sent here by an expired sign-in loses nothing.
import { useState, type FormEvent } from "react";
import { ApiError, signIn, signUp } from "../api";
import { useLocale, useT, type Strings } from "../i18n";

const STRINGS: Strings<
  "title" | "subtitle" | "email" | "password" | "signIn" | "signUp" | "toSignUp" | "toSignIn" | "busy" | "failed" | "expired"
> = {
  en: {
    title: "Innovation-kun",
    subtitle: "Your personal style advisor",
    email: "Email",
    password: "Password",
    signIn: "Sign in",
    signUp: "Create account",
    toSignUp: "New here? Create an account",
    toSignIn: "Have an account? Sign in",
    busy: "One moment…",
    failed: "Could not reach the server. Check your connection and try again.",
    expired: "Your sign-in has expired. Sign in again — your unsent message is kept.",
  },
  zh: {
    title: "形象顾问",
    subtitle: "你的个人形象智能顾问",
    email: "邮箱",
    password: "密码",
    signIn: "登录",
    signUp: "注册",
    toSignUp: "还没有账号？注册",
    toSignIn: "已有账号？登录",
    busy: "请稍候…",
    failed: "无法连接服务器，请检查网络后重试。",
    expired: "登录已过期，请重新登录——未发送的消息会保留。",
  },
};

export function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const t = useT(STRINGS);
  const { locale, setLocale } = useLocale();
  const [mode, setMode] = useState<"in" | "up">("in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const hadDraft = !!localStorage.getItem("ik.draft");

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "in") await signIn(email.trim(), password);
      else await signUp(email.trim(), password, locale);
      onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : t("failed"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit} aria-label={mode === "in" ? t("signIn") : t("signUp")}>
        <div className="signin-head">
          <h1>{t("title")}</h1>
          <button type="button" className="link" onClick={() => setLocale(locale === "zh" ? "en" : "zh")} data-testid="locale-toggle">
            {locale === "zh" ? "EN" : "中文"}
          </button>
        </div>
        <p className="muted">{t("subtitle")}</p>
        {hadDraft && <p className="notice" data-testid="draft-kept">{t("expired")}</p>}
        <label>
          {t("email")}
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} data-testid="email" />
        </label>
        <label>
          {t("password")}
          <input
            type="password"
            name="password"
            autoComplete={mode === "in" ? "current-password" : "new-password"}
            required
            minLength={mode === "up" ? 8 : 1}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="password"
          />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="signin-submit">
          {busy ? t("busy") : mode === "in" ? t("signIn") : t("signUp")}
        </button>
        <button type="button" className="link" onClick={() => setMode(mode === "in" ? "up" : "in")}>
          {mode === "in" ? t("toSignUp") : t("toSignIn")}
        </button>
      </form>
    </div>
  );
}
