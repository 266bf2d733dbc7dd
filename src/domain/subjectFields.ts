// Where a request names the face it means in a photo holding several (see subject.ts): one field per image field.

/** The request field that names the face of an image field: `images[2]` → `subject_faces[2]`, `image` → `subject_face`. */
export function selectorField(field: string): string {
  const m = /^(\w+)\[(\d+)\]$/.exec(field);
  if (m) return `${m[1] === 'images' ? 'subject_faces' : `${m[1]}_faces`}[${m[2]}]`;
  return `${field === 'image' ? 'subject' : field}_face`;
}
