import { AuthImage } from "../components/AuthImage";
import { useLocale, useT } from "../i18n";
import { WARDROBE_STRINGS } from "./strings";
import type { WardrobeItem } from "./types";
import { categoryName, colourName, colourSwatch, seasonName } from "./vocab";

interface Props {
  item: WardrobeItem;
  onEdit: () => void;
  onWorn: () => void;
  wearing: boolean;
}

export function ItemCard({ item, onEdit, onWorn, wearing }: Props) {
  const t = useT(WARDROBE_STRINGS);
  const { locale } = useLocale();
  return (
    <article className="wr-card card" data-testid="wardrobe-item" data-item-id={item.id}>
      <button type="button" className="wr-photo" onClick={onEdit} aria-label={`${t("edit")}: ${item.name}`}>
        {item.has_photo ? (
          <AuthImage src={`/api/v1/wardrobe/items/${item.id}/photo?variant=cutout`} alt={item.name} className="wr-img" testId="item-photo" />
        ) : (
          <div className="wr-img wr-noimg" aria-hidden="true">
            {(categoryName(item.category, locale) || item.name).slice(0, 2)}
          </div>
        )}
      </button>
      <div className="wr-meta">
        <strong className="wr-name" data-testid="item-card-name">
          {item.name}
        </strong>
        <div className="row wr-tags">
          {item.category ? (
            <span className="badge" data-testid="item-card-category">
              {categoryName(item.category, locale)}
            </span>
          ) : (
            // Recognition found no category: invite a fix, since outfits need one to use the item.
            <button type="button" className="badge warn wr-badge-button" onClick={onEdit} data-testid="item-card-no-category">
              {t("noCategory")}
            </button>
          )}
          {item.colour && (
            <span className="wr-colour" data-testid="item-card-colour">
              <i className="wr-dot" style={{ background: colourSwatch(item.colour) }} aria-hidden="true" />
              {colourName(item.colour, locale)}
            </span>
          )}
        </div>
        {(item.seasons.length > 0 || item.tags.length > 0) && (
          <div className="muted wr-small">
            {[...item.seasons.map((s) => seasonName(s, locale)), ...item.tags.map((tag) => `#${tag}`)].join(" · ")}
          </div>
        )}
        <div className="row wr-card-actions">
          <button type="button" onClick={onWorn} disabled={wearing} data-testid="item-worn">
            {t("wornToday")}
          </button>
          <button type="button" className="link" onClick={onEdit} data-testid="item-edit">
            {t("edit")}
          </button>
        </div>
      </div>
    </article>
  );
}
