// Generic /v2/persons records (KYC-style identities) with their verification status.
import { useState } from 'preact/hooks';
import { api, query, type Envelope, type PersonRecord } from '../api';
import { Empty, ErrorBox, fmtDate, fmtScore, Progress, useLoad } from '../ui';
import { Pager } from './collections';

const STATUS_WORDS: Record<PersonRecord['verificationStatus'], string> = {
  verified: 'Verified',
  pending: 'Pending',
  failed: 'Failed',
  expired: 'Expired',
};

export function RecordsPage() {
  const [page, setPage] = useState(1);
  const [list, reload] = useLoad((signal) => api.get<Envelope<PersonRecord[]>>(`/v2/persons${query({ page, limit: 25 })}`, signal), [page]);
  return (
    <section aria-labelledby="records-title">
      <h1 id="records-title">Person records</h1>
      <p class="lead">Identity records of <code>/v2/persons</code> and whether their liveness capture verified them.</p>
      {list.state === 'loading' && <Progress label="Loading records…" />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ok' && list.data.data.length === 0 && (
        <Empty title="No person records yet.">
          <p>
            They are created through the API (<code>POST /v2/persons</code> or <code>/v2/persons/liveness</code>).
          </p>
        </Empty>
      )}
      {list.state === 'ok' && list.data.data.length > 0 && (
        <>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Person records table">
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Liveness</th>
                  <th scope="col">Face</th>
                  <th scope="col">Document</th>
                  <th scope="col">Contact</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((r) => (
                  <tr key={r.id}>
                    <td>{[r.firstName, r.lastName].filter(Boolean).join(' ') || '—'}</td>
                    <td>
                      <span class={`badge ${r.verificationStatus}`}>{STATUS_WORDS[r.verificationStatus]}</span>
                    </td>
                    <td>{r.biometricData.livenessScore === undefined ? '—' : fmtScore(r.biometricData.livenessScore)}</td>
                    <td>{r.biometricData.faceEnrolled ? 'Enrolled' : 'None'}</td>
                    <td>{r.documentNumber ? `${r.documentType ?? ''} ${r.documentNumber}`.trim() : '—'}</td>
                    <td>{r.email ?? r.phone ?? '—'}</td>
                    <td>{fmtDate(r.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} pages={list.data.pagination!.pages} onPage={setPage} />
        </>
      )}
    </section>
  );
}
