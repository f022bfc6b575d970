// The shell: sign-in gate, navigation by role, language switch and the page for the hash route.
// The console and admin pages load on demand, so the chat app's first download stays small.
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { api, readTokens, SIGNED_OUT_EVENT, signOut, SignedOut, type Me } from "./api";
import { useLocale, useT, type Strings } from "./i18n";
import { ChatPage } from "./pages/Chat";
import { SignInPage } from "./pages/SignIn";
import { go, useRoute } from "./route";

const WardrobePage = lazy(() => import("./pages/Wardrobe"));
const ProfilePage = lazy(() => import("./pages/Profile"));
const ConsolePage = lazy(() => import("./pages/Console"));
const AdminPage = lazy(() => import("./pages/Admin"));

const STRINGS: Strings<"chat" | "wardrobe" | "profile" | "console" | "admin" | "signOut" | "loading" | "title" | "offline"> = {
  en: {
    title: "Innovation-kun",
    chat: "Chat",
    wardrobe: "Wardrobe",
    profile: "Profile",
    console: "Console",
    admin: "Admin",
    signOut: "Sign out",
    loading: "Loading…",
    offline: "The server cannot be reached; retrying…",
  },
  zh: {
    title: "形象顾问",
    chat: "聊天",
    wardrobe: "衣橱",
    profile: "我的资料",
    console: "客服台",
    admin: "管理",
    signOut: "退出",
    loading: "加载中…",
    offline: "无法连接服务器，正在重试…",
  },
};

const STAFF = new Set(["support", "admin"]);

export function App() {
  const t = useT(STRINGS);
  const { locale, setLocale } = useLocale();
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [signedIn, setSignedIn] = useState(() => readTokens() !== null);
  const [offline, setOffline] = useState(false);

  const loadMe = useCallback(async () => {
    try {
      const user = await api<Me>("users/me");
      setMe(user);
      setOffline(false);
    } catch (error) {
      if (error instanceof SignedOut) return;
      setOffline(true);
      window.setTimeout(loadMe, 2000);
    }
  }, []);

  useEffect(() => {
    const out = () => {
      setSignedIn(false);
      setMe(null);
    };
    // Signing in or out in another tab follows here.
    const storage = (event: StorageEvent) => {
      if (event.key !== "ik.tokens") return;
      if (event.newValue === null) out();
      else if (event.oldValue === null) setSignedIn(true);
    };
    window.addEventListener(SIGNED_OUT_EVENT, out);
    window.addEventListener("storage", storage);
    return () => {
      window.removeEventListener(SIGNED_OUT_EVENT, out);
      window.removeEventListener("storage", storage);
    };
  }, []);

  useEffect(() => {
    if (signedIn) void loadMe();
  }, [signedIn, loadMe]);

  if (!signedIn) return <SignInPage onSignedIn={() => setSignedIn(true)} />;
  if (!me) return <div className="centered">{offline ? t("offline") : t("loading")}</div>;

  const page = route[0] ?? "chat";
  const staff = STAFF.has(me.role);
  const tabs: [string, string][] = [
    ["chat", t("chat")],
    ["wardrobe", t("wardrobe")],
    ["profile", t("profile")],
  ];
  if (staff) tabs.push(["console", t("console")]);
  if (me.role === "admin") tabs.push(["admin", t("admin")]);

  let body;
  if (page === "wardrobe") body = <WardrobePage me={me} />;
  else if (page === "profile") body = <ProfilePage me={me} />;
  else if (page === "console" && staff) body = <ConsolePage me={me} sessionId={route[1] ?? null} />;
  else if (page === "admin" && me.role === "admin") body = <AdminPage me={me} />;
  else body = <ChatPage me={me} sessionId={page === "chat" ? (route[1] ?? null) : null} />;

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">{t("title")}</span>
        <nav className="tabs" aria-label="main">
          {tabs.map(([key, label]) => (
            <a key={key} href={`#/${key}`} className={key === page || (key === "chat" && !tabs.some(([k]) => k === page)) ? "active" : ""} data-testid={`nav-${key}`}>
              {label}
            </a>
          ))}
        </nav>
        <div className="topbar-actions">
          <button
            type="button"
            className="link"
            data-testid="locale-toggle"
            onClick={() => setLocale(locale === "zh" ? "en" : "zh")}
            aria-label={locale === "zh" ? "Switch to English" : "切换到中文"}
          >
            {locale === "zh" ? "EN" : "中文"}
          </button>
          <button type="button" className="link" data-testid="sign-out" onClick={() => void signOut().then(() => go("chat"))}>
            {t("signOut")}
          </button>
        </div>
      </header>
      <main className="page">
        <Suspense fallback={<div className="centered">{t("loading")}</div>}>{body}</Suspense>
      </main>
    </div>
  );
}
