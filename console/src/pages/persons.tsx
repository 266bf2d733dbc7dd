// Persons of a collection (or of the tenant): thumbnail grid, name filter, keyset paging (each page starts after the
// last person of the one before, so page 4 000 of a 100 k collection costs what page 1 does), and enrolment.
import { useEffect, useState } from 'preact/hooks';
import { api, query, thumbSrc, type Collection, type Envelope, type FacePerson } from '../api';
import { base64Of, release, type Photo } from '../images';
import { Empty, ErrorBox, PhotoPicker, Progress, useLoad } from '../ui';

const PAGE = 24;

export function PersonsPage({ collection }: { collection?: string }) {
  const [col] = useLoad(
    (signal) => (collection ? api.get<Envelope<Collection>>(`/v2/face-recognition/collections/${collection}`, signal).then((r) => r.data) : Promise.resolve(null)),
    [collection],
  );
  const [filter, setFilter] = useState('');
  const [debounced, setDebounced] = useState('');
  // cursors[i] is the `after` of page i (undefined for the first page).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [pageIndex, setPageIndex] = useState(0);
  useEffect(() => {
    if (filter.trim() === debounced) return;
    const t = setTimeout(() => {
      setDebounced(filter.trim());
      setCursors([undefined]);
      setPageIndex(0);
    }, 250);
    return () => clearTimeout(t);
  }, [filter]);
  const [list, reload] = useLoad(
    (signal) =>
      api.get<Envelope<FacePerson[]>>(`/v2/face-recognition/persons${query({ collection, name: debounced, limit: PAGE, after: cursors[pageIndex] })}`, signal),
    [collection, debounced, pageIndex, cursors],
  );
  const title = collection ? (col.state === 'ok' && col.data ? col.data.name : 'Collection') : 'All persons';
  const total = list.state === 'ok' ? list.data.pagination!.total : 0;
  const first = pageIndex * PAGE + 1;

  return (
    <section aria-labelledby="persons-title">
      {collection && (
        <p class="crumbs">
          <a href="#/collections">Collections</a> ›
        </p>
      )}
      <h1 id="persons-title">{title}</h1>
      {col.state === 'error' && <ErrorBox error={col.error} />}
      {collection && col.state === 'ok' && col.data?.description && <p class="lead">{col.data.description}</p>}
      <Enrol collection={collection} onEnrolled={() => { setCursors([undefined]); setPageIndex(0); reload(); }} />
      <div class="toolbar">
        <label for="person-filter">Filter by name</label>
        <input id="person-filter" type="search" value={filter} onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)} />
        {list.state === 'ok' && total > 0 && (
          <span class="muted" aria-live="polite">
            {first}–{first + list.data.data.length - 1} of {total}
          </span>
        )}
      </div>
      {list.state === 'loading' && <Progress label="Loading persons…" />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={() => { setCursors([undefined]); setPageIndex(0); reload(); }} />}
      {list.state === 'ok' && list.data.data.length === 0 && (
        <Empty title={debounced ? `No person's name contains “${debounced}”.` : collection ? 'Nobody is enrolled in this collection yet.' : 'Nobody is enrolled yet.'}>
          {!debounced && <p>Enrol a person above from one to five photos of their face.</p>}
        </Empty>
      )}
      {list.state === 'ok' && list.data.data.length > 0 && (
        <>
          <ul class="grid" aria-label="Persons">
            {list.data.data.map((p) => (
              <li key={p._id}>
                <a class="person-tile" href={`#/persons/${p._id}`}>
                  {p.thumbnails[0] ? <img src={thumbSrc(p.thumbnails[0].thumbnail)} alt="" width={112} height={112} /> : <span class="no-thumb" aria-hidden="true" />}
                  <span class="name">{p.name}</span>
                  <span class="muted small">
                    {p.thumbnails.length} {p.thumbnails.length === 1 ? 'face' : 'faces'}
                  </span>
                </a>
              </li>
            ))}
          </ul>
          {total > PAGE && <nav class="pager" aria-label="Pages">
            <button type="button" class="secondary small" disabled={pageIndex === 0} onClick={() => setPageIndex(pageIndex - 1)}>
              Previous
            </button>
            <button
              type="button"
              class="secondary small"
              disabled={first + list.data.data.length - 1 >= total}
              onClick={() => {
                const last = list.data.data[list.data.data.length - 1]._id;
                setCursors([...cursors.slice(0, pageIndex + 1), last]);
                setPageIndex(pageIndex + 1);
              }}
            >
              Next
            </button>
          </nav>}
        </>
      )}
    </section>
  );
}

function Enrol({ collection, onEnrolled }: { collection?: string; onEnrolled: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [gender, setGender] = useState('');
  const [dob, setDob] = useState('');
  const [notes, setNotes] = useState('');
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [stage, setStage] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<FacePerson | null>(null);
  if (!open)
    return (
      <div class="enrol-bar">
        <button type="button" onClick={() => { setOpen(true); setDone(null); }}>
          Enrol a person
        </button>
        {done && (
          <p role="status" class="ok-text">
            Enrolled <a href={`#/persons/${done._id}`}>{done.name}</a>.
          </p>
        )}
      </div>
    );
  return (
    <form
      class="card enrol"
      aria-label="Enrol a person"
      onSubmit={async (e) => {
        e.preventDefault();
        if (photos.length === 0) {
          setError(new Error('Choose at least one photo of the person'));
          return;
        }
        setError(null);
        try {
          const images: string[] = [];
          for (let i = 0; i < photos.length; i++) {
            setStage(`Reading photo ${i + 1} of ${photos.length}…`);
            images.push(await base64Of(photos[i].file));
          }
          setStage(`Analysing ${photos.length} ${photos.length === 1 ? 'photo' : 'photos'} and enrolling…`);
          const body: Record<string, unknown> = { name: name.trim(), images };
          if (collection) body.collections = [collection];
          if (gender) body.gender = gender;
          if (dob) body.date_of_birth = dob;
          if (notes.trim()) body.notes = notes.trim();
          const res = await api.post<Envelope<FacePerson>>('/v2/face-recognition/persons', body);
          release(photos);
          setPhotos([]);
          setName('');
          setGender('');
          setDob('');
          setNotes('');
          setDone(res.data);
          setOpen(false);
          onEnrolled();
        } catch (err) {
          setError(err);
        } finally {
          setStage(null);
        }
      }}
    >
      <h2>Enrol a person</h2>
      <div class="form-grid">
        <div class="field">
          <label for="enrol-name">Name</label>
          <input id="enrol-name" required maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="enrol-gender">Gender (optional)</label>
          <select id="enrol-gender" value={gender} onChange={(e) => setGender((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Not given</option>
            <option value="F">F</option>
            <option value="M">M</option>
          </select>
        </div>
        <div class="field">
          <label for="enrol-dob">Date of birth (optional)</label>
          <input id="enrol-dob" type="date" value={dob} onInput={(e) => setDob((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field wide">
          <label for="enrol-notes">Notes (optional)</label>
          <input id="enrol-notes" maxLength={4000} value={notes} onInput={(e) => setNotes((e.currentTarget as HTMLInputElement).value)} />
        </div>
      </div>
      <PhotoPicker label="Choose photos" multiple max={5} photos={photos} onChange={(p) => { release(photos); setPhotos(p); }} hint="1 to 5 photos, one face each; or drop them here" />
      {error !== null && <ErrorBox error={error} />}
      {stage ? (
        <Progress label={stage} />
      ) : (
        <div class="actions">
          <button type="submit">Enrol</button>
          <button type="button" class="secondary" onClick={() => { release(photos); setPhotos([]); setOpen(false); setError(null); }}>
            Cancel
          </button>
        </div>
      )}
    </form>
  );
}

