// Chinese and English: each page keeps its own strings beside it (`{en: {...}, zh: {...}}`) and
// reads them through `useT`, so pages never edit one shared dictionary.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export type Locale = "zh" | "en";
const LOCALE_KEY = "ik.locale";

export function initialLocale(): Locale {
  const saved = localStorage.getItem(LOCALE_KEY);
  if (saved === "zh" || saved === "en") return saved;
  return navigator.language.toLowerCase().startsWith("zh") ? "zh" : "en";
}

interface LocaleState {
  locale: Locale;
  setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleState>({ locale: "en", setLocale: () => undefined });

export function LocaleProvider({ children }: { children: ReactNode }) {
  const [locale, setState] = useState<Locale>(initialLocale);
  const setLocale = useCallback((next: Locale) => {
    localStorage.setItem(LOCALE_KEY, next);
    document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
    setState(next);
  }, []);
  const value = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);
  return <LocaleContext.Provider value={value}>{children}</LocaleContext.Provider>;
}

export function useLocale(): LocaleState {
  return useContext(LocaleContext);
}

export type Strings<K extends string> = Record<Locale, Record<K, string>>;

/** `t("key", {n: 3})` replaces `{n}` in the string of the current language. */
export function useT<K extends string>(strings: Strings<K>): (key: K, vars?: Record<string, string | number>) => string {
  const { locale } = useLocale();
  return useCallback(
    (key: K, vars?: Record<string, string | number>) => {
      let text = strings[locale][key] ?? strings.en[key] ?? key;
      for (const [name, value] of Object.entries(vars ?? {})) text = text.replaceAll(`{${name}}`, String(value));
      return text;
    },
    [locale, strings],
  );
}
