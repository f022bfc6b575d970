import { useT } from "../i18n";
import { CONSENTS, type ConsentName, type ProfileForm } from "./form";
import { PROFILE_STRINGS } from "./strings";

export function ConsentsSection({ form, update }: { form: ProfileForm; update: (change: (form: ProfileForm) => ProfileForm) => void }) {
  const t = useT(PROFILE_STRINGS);
  const toggle = (name: ConsentName) => update((f) => ({ ...f, consents: { ...f.consents, [name]: !f.consents[name] } }));
  return (
    <section className="card stack" data-testid="profile-consents">
      <h2>{t("consents")}</h2>
      {CONSENTS.map((name) => (
        <label key={name} className="pf-consent">
          <input type="checkbox" checked={form.consents[name]} onChange={() => toggle(name)} data-testid={`consent-${name}`} />
          <span>
            <strong>{t(name)}</strong>
            <span className="muted pf-small">{t(`${name}Hint`)}</span>
          </span>
        </label>
      ))}
    </section>
  );
}
