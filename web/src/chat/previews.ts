// Photos this tab uploaded, by upload id, shown from the file the person picked (no download);
// photos from the history or another tab come from GET /api/v1/uploads/{id}.
const previews = new Map<string, string>();

export function rememberPreview(uploadId: string, file: Blob): string {
  const url = URL.createObjectURL(file);
  previews.set(uploadId, url);
  return url;
}

export function previewOf(uploadId: string): string | undefined {
  return previews.get(uploadId);
}
