// One person: every enrolled face, every field, edit, and erasure (after a confirmation that names the person).
import { useState } from 'preact/hooks';
import { api, query, thumbSrc, type Collection, type Envelope, type FacePerson } from '../api';
import { go } from '../router';
import { Confirm, ErrorBox, fmtDate, Progress, useLoad, words } from '../ui';

export function PersonPage({ id }: { id: string }) {
  const [person, reload] = useLoad((signal) => api.get<Envelope<FacePerson>>(`/v2/face-recognition/persons/${id}`, signal).then((r) => r.data), [id]);
  const [cols] = useLoad(
    (signal) => api.get<Envelope<Collection[]>>(`/v2/face-recognition/collections${query({ limit: 100 })}`, signal).then((r) => r.data),
    [],
  );
  const [editing, setEditing] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  if (person.state === 'loading') return <Progress label="Loading the person…" />;
  if (person.state === 'error')
    return (
      <section>
        <h1>Person</h1>
        <ErrorBox error={person.error} onRetry={reload} />
        <p>
          <a href="#/persons">Back to all persons</a>
        </p>
      </section>
    );
  const p = person.data;
  const colName = (cid: string) => (cols.state === 'ok' ? cols.data.find((c) => c._id === cid)?.name : undefined) ?? cid;
  const back = p.collections[0] ? `#/collections/${p.collections[0]}` : '#/persons';

  return (
    <section aria-labelledby="person-title">
      <p class="crumbs">
        <a href={back}>{p.collections[0] ? colName(p.collections[0]) : 'All persons'}</a> ›
      </p>
      <h1 id="person-title">{p.name}</h1>
      <ul class="faces" aria-label="Enrolled faces">
        {p.thumbnails.map((t, i) => (
          <li key={t.id}>
            <img src={thumbSrc(t.thumbnail)} alt={`Enrolled face ${i + 1} of ${p.name}`} width={144} height={144} />
          </li>
        ))}
      </ul>
      {editing ? (
        <EditPerson
          person={p}
          collections={cols.state === 'ok' ? cols.data : []}
          onDone={(changed) => {
            setEditing(false);
            if (changed) reload();
          }}
        />
      ) : (
        <>
          <dl class="fields card">
            <dt>Gender</dt>
            <dd>{p.gender ?? '—'}</dd>
            <dt>Date of birth</dt>
            <dd>{p.date_of_birth ?? '—'}</dd>
            <dt>Nationality</dt>
            <dd>{p.nationality ?? '—'}</dd>
            <dt>Collections</dt>
            <dd>{p.collections.length ? p.collections.map(colName).join(', ') : 'none'}</dd>
            <dt>Notes</dt>
            <dd>{p.notes ?? '—'}</dd>
            <dt>Id</dt>
            <dd>
              <code>{p._id}</code>
            </dd>
            <dt>Enrolled</dt>
            <dd>{fmtDate(p.createdAt)}</dd>
            <dt>Updated</dt>
            <dd>{fmtDate(p.updatedAt)}</dd>
          </dl>
          <div class="actions">
            <button type="button" onClick={() => setEditing(true)}>
              Edit
            </button>
            <button type="button" class="danger" onClick={() => setErasing(true)}>
              Erase person
            </button>
          </div>
        </>
      )}
      {error !== null && <ErrorBox error={error} />}
      <Confirm
        open={erasing}
        title={`Erase ${p.name}?`}
        confirmLabel={`Erase ${p.name}`}
        busy={busy}
        onCancel={() => setErasing(false)}
        onConfirm={async () => {
          setBusy(true);
          setError(null);
          try {
            await api.del(`/v2/face-recognition/persons/${p._id}`);
            setErasing(false);
            go(back.slice(1));
          } catch (err) {
            setError(err);
            setErasing(false);
          } finally {
            setBusy(false);
          }
        }}
      >
        <p>
          This deletes {p.name}'s record, {p.thumbnails.length === 1 ? 'the enrolled face' : `all ${p.thumbnails.length} enrolled faces`} and the face templates made from {p.thumbnails.length === 1 ? 'it' : 'them'}, for good. Searches stop finding them at
          once. It cannot be undone.
        </p>
      </Confirm>
    </section>
  );
}

function EditPerson({ person, collections, onDone }: { person: FacePerson; collections: Collection[]; onDone: (changed: boolean) => void }) {
  const [name, setName] = useState(person.name);
  const [gender, setGender] = useState(person.gender ?? '');
  const [dob, setDob] = useState(person.date_of_birth ?? '');
  const [nationality, setNationality] = useState(person.nationality ?? '');
  const [notes, setNotes] = useState(person.notes ?? '');
  const [member, setMember] = useState<Set<string>>(new Set(person.collections));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="card"
      aria-label={`Edit ${person.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await api.put(`/v2/face-recognition/persons/${person._id}`, {
            name: name.trim(),
            gender: gender || null,
            date_of_birth: dob || null,
            nationality: nationality.trim() || null,
            notes: notes.trim() || null,
            collections: [...member],
          });
          onDone(true);
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
    >
      <div class="form-grid">
        <div class="field">
          <label for="edit-name">Name</label>
          <input id="edit-name" required maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="edit-gender">Gender</label>
          <select id="edit-gender" value={gender} onChange={(e) => setGender((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Not given</option>
            <option value="F">F</option>
            <option value="M">M</option>
          </select>
        </div>
        <div class="field">
          <label for="edit-dob">Date of birth</label>
          <input id="edit-dob" type="date" value={dob} onInput={(e) => setDob((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="edit-nationality">Nationality</label>
          <input id="edit-nationality" maxLength={64} value={nationality} onInput={(e) => setNationality((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div class="field wide">
          <label for="edit-notes">Notes</label>
          <textarea id="edit-notes" maxLength={4000} rows={3} value={notes} onInput={(e) => setNotes((e.currentTarget as HTMLTextAreaElement).value)} />
        </div>
      </div>
      {collections.length > 0 && (
        <fieldset>
          <legend>Collections</legend>
          {collections.map((c) => (
            <label key={c._id} class="check">
              <input
                type="checkbox"
                checked={member.has(c._id)}
                onChange={(e) => {
                  const next = new Set(member);
                  if ((e.currentTarget as HTMLInputElement).checked) next.add(c._id);
                  else next.delete(c._id);
                  setMember(next);
                }}
              />
              {c.name}
            </label>
          ))}
        </fieldset>
      )}
      {error !== null && <p class="error-text" role="alert">{words(error)}</p>}
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <button type="button" class="secondary" onClick={() => onDone(false)} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
