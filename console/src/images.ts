// Photos chosen by the operator, read in the browser: raw base64 for the API (never put in a URL), an object URL
// for previews, and crops of single faces for searching each face of a group photo.

export interface Photo {
  file: File;
  /** blob: URL for <img> previews; revoke with release(). */
  url: string;
}

export function toPhotos(files: FileList | File[] | null): Photo[] {
  return Array.from(files ?? [])
    .filter((f) => f.type.startsWith('image/') || /\.(jpe?g|png|webp|gif|bmp|tiff?)$/i.test(f.name))
    .map((file) => ({ file, url: URL.createObjectURL(file) }));
}

export function release(photos: Photo[]): void {
  for (const p of photos) URL.revokeObjectURL(p.url);
}

/** The file's bytes as raw base64 (no data: prefix, as the API wants). */
export function base64Of(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onerror = () => reject(new Error(`could not read ${blob instanceof File ? blob.name : 'the photo'}`));
    r.onload = () => {
      const s = String(r.result);
      resolve(s.slice(s.indexOf(',') + 1));
    };
    r.readAsDataURL(blob);
  });
}

/** A JPEG (raw base64) of the region around a face box, with a margin so the engine finds the face again. */
export async function cropFace(photo: Photo, box: { x: number; y: number; width: number; height: number }): Promise<string> {
  const img = await createImageBitmap(photo.file);
  const m = 0.6;
  const x0 = Math.max(0, Math.floor(box.x - box.width * m));
  const y0 = Math.max(0, Math.floor(box.y - box.height * m));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.width * (1 + m)));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.height * (1 + m)));
  const canvas = document.createElement('canvas');
  canvas.width = x1 - x0;
  canvas.height = y1 - y0;
  canvas.getContext('2d')!.drawImage(img, x0, y0, canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
  img.close();
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('crop failed'))), 'image/jpeg', 0.92));
  return base64Of(blob);
}
