// Small shared pieces: progress, errors in words, empty states, the photo picker (drop or choose), a confirmation
// dialog, and a hook for loading data with all three states.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure } from './api';
import { toPhotos, type Photo } from './images';

export function Progress({ label }: { label: string }) {
  const [secs, setSecs] = useState(0);
  useEffect(() => {
    const t0 = Date.now();
    const id = setInterval(() => setSecs(Math.floor((Date.now() - t0) / 1000)), 500);
    return () => clearInterval(id);
  }, []);
  return (
    <div class="progress" role="status" aria-live="polite">
      <div class="bar" aria-hidden="true"><span /></div>
      <span>
        {label}
        {secs >= 2 ? ` (${secs} s)` : ''}
      </span>
    </div>
  );
}

export function words(err: unknown): string {
  if (err instanceof ApiFailure) return err.message;
  if (err instanceof Error) return `${err.message}. Try again.`;
  return 'Something went wrong. Try again.';
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="error" role="alert">
      <p>{words(error)}</p>
      {onRetry && (
        <button type="button" class="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: unknown } | { state: 'ok'; data: T };

/** Loads on mount and whenever `deps` change; `reload` runs it again. Stale answers are dropped. */
export function useLoad<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    setValue({ state: 'loading' });
    fn(ctl.signal).then(
      (data) => !ctl.signal.aborted && setValue({ state: 'ok', data }),
      (error) => !ctl.signal.aborted && setValue({ state: 'error', error }),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  return [value, () => setTick((t) => t + 1)];
}

let pickerIds = 0;

/** Choose or drop photos. Keyboard: the visible button is a real <label> for the file input. */
export function PhotoPicker(props: { label: string; multiple?: boolean; max?: number; photos: Photo[]; onChange: (p: Photo[]) => void; hint?: string }) {
  const [over, setOver] = useState(false);
  const id = useRef(`photos-${++pickerIds}`).current;
  const take = (files: FileList | null) => {
    let list = toPhotos(files);
    if (!props.multiple) list = list.slice(0, 1);
    else if (props.max) list = list.slice(0, props.max);
    if (list.length) props.onChange(list);
  };
  return (
    <div
      class={`drop${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer?.files ?? null);
      }}
    >
      <input
        id={id}
        class="visually-hidden"
        type="file"
        accept="image/*"
        multiple={props.multiple}
        onChange={(e) => take((e.currentTarget as HTMLInputElement).files)}
      />
      <label for={id} class="button secondary">
        {props.label}
      </label>
      <span class="muted">{props.hint ?? (props.multiple ? `or drop up to ${props.max ?? 5} photos here` : 'or drop a photo here')}</span>
      {props.photos.length > 0 && (
        <ul class="previews" aria-label="Chosen photos">
          {props.photos.map((p, i) => (
            <li key={p.url}>
              <img src={p.url} alt={`Chosen photo ${i + 1}: ${p.file.name}`} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). */
export function Confirm(props: { open: boolean; title: string; children: ComponentChildren; confirmLabel: string; onConfirm: () => void; onCancel: () => void; busy?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function fmtDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function fmtScore(s: number): string {
  return s.toFixed(3);
}
