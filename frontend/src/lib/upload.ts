/**
 * A drink photo upload: ask the API for a presigned POST, then send the signed fields
 * and the file (last, named "file") as multipart straight to storage, with progress.
 * XMLHttpRequest, not fetch: fetch has no upload progress events.
 */
import { api } from "./api";

export interface PresignedUpload {
  upload: { url: string; fields: Record<string, string> };
  key: string;
  image_url: string;
  expires_in: number;
  max_bytes: number;
}

export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

/** A reason to refuse the file before any upload, or "" when it is fine. */
export function checkPhoto(file: { type: string; size: number }, maxBytes = MAX_PHOTO_BYTES): string {
  if (!PHOTO_TYPES.includes(file.type)) return "Choose a JPEG, PNG or WebP photo.";
  if (file.size <= 0) return "That file is empty.";
  if (file.size > maxBytes) return `That photo is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${Math.round(maxBytes / 1048576)} MB.`;
  return "";
}

/** The multipart body: every signed field first, the file last (storage requires it). */
export function uploadForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file, filename);
  return form;
}

export function postWithProgress(url: string, form: FormData, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new Error(`the upload was refused (HTTP ${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new Error("the upload failed: no connection to storage"));
    xhr.send(form);
  });
}

/** Upload one photo; resolves with its image key (for the drink) and URL (for a preview). */
export async function uploadPhoto(file: File, onProgress: (fraction: number) => void): Promise<{ key: string; url: string }> {
  const problem = checkPhoto(file);
  if (problem) throw new Error(problem);
  const signed = await api.request<PresignedUpload>("/admin/images/upload-url", {
    method: "POST",
    auth: "admin",
    body: { filename: file.name || "photo", content_type: file.type },
  });
  const problemAfter = checkPhoto(file, signed.max_bytes || MAX_PHOTO_BYTES);
  if (problemAfter) throw new Error(problemAfter);
  await postWithProgress(signed.upload.url, uploadForm(signed.upload.fields, file, file.name || "photo"), onProgress);
  return { key: signed.key, url: signed.image_url };
}
