// Collections: list (with member counts), create, rename, delete (saying how many persons it holds first).
import { useEffect, useState } from 'preact/hooks';
import { api, query, type Collection, type Envelope } from '../api';
import { Confirm, Empty, ErrorBox, fmtDate, Progress, useLoad, words } from '../ui';

async function memberCount(id: string, signal?: AbortSignal): Promise<number> {
  const res = await api.get<Envelope<unknown[]>>(`/v2/face-recognition/persons${query({ collection: id, limit: 1 })}`, signal);
  return res.pagination?.total ?? 0;
}

export function CollectionsPage() {
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(1);
  const [list, reload] = useLoad(
    async (signal) => {
      const res = await api.get<Envelope<Collection[]>>(`/v2/face-recognition/collections${query({ page, limit: 20, name: filter.trim() })}`, signal);
      return { items: res.data, pagination: res.pagination! };
    },
    [filter, page],
  );
  // Member counts arrive after the list (one request each): the list is on screen without waiting for them.
  const [counts, setCounts] = useState<Record<string, number>>({});
  useEffect(() => {
    if (list.state !== 'ok') return;
    const ctl = new AbortController();
    for (const c of list.data.items) {
      memberCount(c._id, ctl.signal).then(
        (n) => setCounts((m) => ({ ...m, [c._id]: n })),
        () => undefined,
      );
    }
    return () => ctl.abort();
  }, [list]);
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<(Collection & { persons: number }) | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);

  return (
    <section aria-labelledby="collections-title">
      <h1 id="collections-title">Collections</h1>
      <p class="lead">Groups of enrolled persons. Searches look in one collection or in all of them.</p>
      <CreateCollection onCreated={reload} />
      <div class="toolbar">
        <label for="collection-filter">Filter by name</label>
        <input
          id="collection-filter"
          type="search"
          value={filter}
          onInput={(e) => {
            setFilter((e.currentTarget as HTMLInputElement).value);
            setPage(1);
          }}
        />
      </div>
      {actionError !== null && <ErrorBox error={actionError} />}
      {list.state === 'loading' && <Progress label="Loading collections…" />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ok' && list.data.items.length === 0 && (
        <Empty title={filter ? `No collection name contains “${filter}”.` : 'No collections yet.'}>
          {!filter && <p>Create one above, then enrol persons into it from photos.</p>}
        </Empty>
      )}
      {list.state === 'ok' && list.data.items.length > 0 && (
        <>
          <ul class="cards" aria-label="Collections">
            {list.data.items.map((c) => (
              <li key={c._id} class="card collection">
                {editing === c._id ? (
                  <RenameForm
                    collection={c}
                    onDone={(changed) => {
                      setEditing(null);
                      if (changed) reload();
                    }}
                  />
                ) : (
                  <>
                    <h2>
                      <a href={`#/collections/${c._id}`}>{c.name}</a>
                    </h2>
                    {c.description && <p>{c.description}</p>}
                    <p class="muted">
                      {counts[c._id] === undefined ? 'Counting persons…' : `${counts[c._id]} ${counts[c._id] === 1 ? 'person' : 'persons'}`} · created {fmtDate(c.createdAt)}
                    </p>
                    <div class="actions">
                      <a class="button small" href={`#/collections/${c._id}`}>
                        Open
                      </a>
                      <button type="button" class="secondary small" onClick={() => setEditing(c._id)} aria-label={`Rename ${c.name}`}>
                        Rename
                      </button>
                      <button
                        type="button"
                        class="danger small"
                        aria-label={`Delete ${c.name}`}
                        onClick={async () => {
                          setActionError(null);
                          // The count the dialog states is read now, not whenever the list was loaded.
                          try {
                            setRemoving({ ...c, persons: await memberCount(c._id) });
                          } catch (err) {
                            setActionError(err);
                          }
                        }}
                      >
                        Delete
                      </button>
                    </div>
                  </>
                )}
              </li>
            ))}
          </ul>
          <Pager page={page} pages={list.data.pagination.pages} onPage={setPage} />
        </>
      )}
      <Confirm
        open={removing !== null}
        title={`Delete the collection “${removing?.name ?? ''}”?`}
        confirmLabel="Delete collection"
        busy={busy}
        onCancel={() => setRemoving(null)}
        onConfirm={async () => {
          if (!removing) return;
          setBusy(true);
          setActionError(null);
          try {
            await api.del(`/v2/face-recognition/collections/${removing._id}`);
            reload();
          } catch (err) {
            setActionError(err);
          } finally {
            setBusy(false);
            setRemoving(null);
          }
        }}
      >
        <p>
          {removing?.persons === 0
            ? 'It holds no persons.'
            : `${removing?.persons} ${removing?.persons === 1 ? 'person leaves' : 'persons leave'} this collection. They stay enrolled (and in their other collections); searches in this collection stop finding them at once.`}
        </p>
      </Confirm>
    </section>
  );
}

export function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (p: number) => void }) {
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" class="secondary small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

function CreateCollection({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="card inline-form"
      aria-label="New collection"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await api.post('/v2/face-recognition/collections', { name: name.trim(), description: description.trim() });
          setName('');
          setDescription('');
          onCreated();
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <div class="field">
        <label for="new-collection-name">New collection name</label>
        <input id="new-collection-name" required maxLength={200} value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <div class="field grow">
        <label for="new-collection-description">Description (optional)</label>
        <input id="new-collection-description" maxLength={500} value={description} onInput={(e) => setDescription((e.currentTarget as HTMLInputElement).value)} />
      </div>
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create collection'}
      </button>
      {error !== null && <p class="error-text" role="alert">{words(error)}</p>}
    </form>
  );
}

function RenameForm({ collection, onDone }: { collection: Collection; onDone: (changed: boolean) => void }) {
  const [name, setName] = useState(collection.name);
  const [description, setDescription] = useState(collection.description);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      aria-label={`Rename ${collection.name}`}
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          await api.put(`/v2/face-recognition/collections/${collection._id}`, { name: name.trim(), description: description.trim() });
          onDone(true);
        } catch (err) {
          setError(err);
          setBusy(false);
        }
      }}
      onKeyDown={(e) => e.key === 'Escape' && onDone(false)}
    >
      <label for={`rename-${collection._id}`}>Name</label>
      <input id={`rename-${collection._id}`} required maxLength={200} value={name} autoFocus onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
      <label for={`redesc-${collection._id}`}>Description</label>
      <input id={`redesc-${collection._id}`} maxLength={500} value={description} onInput={(e) => setDescription((e.currentTarget as HTMLInputElement).value)} />
      {error !== null && <p class="error-text" role="alert">{words(error)}</p>}
      <div class="actions">
        <button type="submit" class="small" disabled={busy}>
          Save
        </button>
        <button type="button" class="secondary small" onClick={() => onDone(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
