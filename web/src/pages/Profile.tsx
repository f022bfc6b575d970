// The profile: measurements in the person's units, style and fit preferences, language and
// consents. One Save sends a partial update; a refusal (422) is shown next to the field it names,
// and what was typed stays on screen.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, ApiError, SignedOut, type Me } from "../api";
import { useLocale, useT, type Locale } from "../i18n";
import { ConsentsSection } from "../profile/ConsentsSection";
import { formFrom, switchSystem, toUpdate, type MeasureName, type ProfileForm, type ProfileRead } from "../profile/form";
import { MeasurementsSection } from "../profile/MeasurementsSection";
import { PreferencesSection } from "../profile/PreferencesSection";
import { PROFILE_STRINGS } from "../profile/strings";
import { Toast, useToast } from "../wardrobe/Toast";
import "../profile/profile.css";

/** The API's reasons, one per problem, without the wrapping ("invalid request: measurements: Value error, height 20 cm is …"). */
function reasons(detail: string): string[] {
  return detail
    .split(/;\s+/)
    .map((part) => part.replace(/^(?:[\w .]+:\s*)+/, "").replace(/^Value error,\s*/, "").trim())
    .filter(Boolean);
}

const FIELD_WORDS: [MeasureName, string][] = [
  ["height", "height"],
  ["weight", "weight"],
  ["chest", "chest"],
  ["waist", "waist"],
  ["hips", "hips"],
  ["inseam", "inseam"],
  ["shoulder", "shoulder"],
  ["shoe_size", "shoe size"],
];

export default function ProfilePage({ me }: { me: Me }) {
  const t = useT(PROFILE_STRINGS);
  const { locale, setLocale } = useLocale();
  const [loaded, setLoaded] = useState<ProfileRead | null>(null);
  const [form, setForm] = useState<ProfileForm | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [toast, showToast] = useToast();

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const profile = await api<ProfileRead>("users/me/profile");
      setLoaded(profile);
      setForm(formFrom(profile));
    } catch (error) {
      if (!(error instanceof SignedOut)) setLoadError(error instanceof ApiError ? error.detail : String(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const update = useCallback((change: (f: ProfileForm) => ProfileForm) => setForm((f) => (f ? change(f) : f)), []);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!form || !loaded) return;
    setSaving(true);
    setSaveError(null);
    try {
      const saved = await api<ProfileRead>("users/me/profile", { method: "PATCH", json: toUpdate(form, loaded) });
      setLoaded(saved);
      setForm(formFrom(saved, form.shoeSystem));
      showToast(t("saved"));
    } catch (error) {
      if (!(error instanceof SignedOut)) setSaveError(error instanceof ApiError ? error.detail : String(error));
    } finally {
      setSaving(false);
    }
  }

  async function changeLanguage(next: Locale) {
    setLocale(next); // the page switches at once; the profile remembers it for other devices and the advisor
    try {
      await api<ProfileRead>("users/me/profile", { method: "PATCH", json: { locale: next } });
      showToast(PROFILE_STRINGS[next].languageSaved);
    } catch (error) {
      if (!(error instanceof SignedOut)) setSaveError(error instanceof ApiError ? error.detail : String(error));
    }
  }

  const problems = saveError ? reasons(saveError) : [];
  const errorFor = (name: MeasureName): string | null => {
    const word = FIELD_WORDS.find(([n]) => n === name)?.[1] ?? name;
    const hits = problems.filter((p) => p.toLowerCase().startsWith(`${word} `));
    return hits.length ? hits.join("; ") : null;
  };

  if (loadError)
    return (
      <div className="error row" role="alert" data-testid="profile-load-error">
        {t("loadFailed", { detail: loadError })}
        <button type="button" onClick={() => void load()}>
          {t("retry")}
        </button>
      </div>
    );
  if (!form || !loaded) return <div className="centered">{t("loading")}</div>;

  return (
    <form className="pf-page stack" onSubmit={save} data-testid="profile-page" data-user={me.id} noValidate>
      <div className="pf-title">
        <h1>{t("title")}</h1>
        <span className="muted">{me.email}</span>
      </div>
      <MeasurementsSection form={form} update={update} onSystem={(system) => update((f) => switchSystem(f, system))} errorFor={errorFor} />
      <PreferencesSection form={form} update={update} />
      <section className="card stack">
        <label>
          {t("language")}
          <select value={locale} onChange={(e) => void changeLanguage(e.target.value as Locale)} data-testid="profile-locale">
            <option value="zh">中文</option>
            <option value="en">English</option>
          </select>
        </label>
      </section>
      <ConsentsSection form={form} update={update} />
      <div className="pf-save-bar">
        {saveError && (
          <p className="error" role="alert" data-testid="profile-error">
            {t("saveFailed", { detail: problems.join("; ") || saveError })}
          </p>
        )}
        <button type="submit" className="primary" disabled={saving} data-testid="profile-save">
          {saving ? t("saving") : t("save")}
        </button>
      </div>
      <Toast toast={toast} />
    </form>
  );
}
