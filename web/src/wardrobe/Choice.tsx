// A labelled drop-down whose first option means "none" ("All" in a filter, "—" in a form): the
// wardrobe's filters and its item sheet use the same shape for categories, colours, seasons, tags.
export function Choice({
  label,
  value,
  empty,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: string;
  /** What the empty value is called. */
  empty: string;
  /** `[value, shown text]` pairs, in order. */
  options: [string, string][];
  onChange: (value: string) => void;
  testId: string;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">{empty}</option>
        {options.map(([key, text]) => (
          <option key={key} value={key}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
