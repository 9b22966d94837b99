import type { AnswerEntry } from "@/chat/transcript";
import { AnswerMarkdown } from "./AnswerMarkdown";
import { Sources } from "./Sources";

interface Props {
  readonly answer: AnswerEntry;
  readonly busy: boolean;
  readonly onRetry: (answer: AnswerEntry) => void;
  readonly onResend: (answer: AnswerEntry) => void;
}

const CHECKPOINT_REASONS = {
  memory_expired: "the conversation was idle too long",
  memory_evicted: "the server needed room for other conversations",
  memory_lost: "the server no longer had it",
} as const;

/** One answer: progress, the memory-reset notice, the streamed Markdown, its sources, and failures. */
export function AnswerView({ answer, busy, onRetry, onResend }: Props) {
  const documents = answer.documents ?? [];
  const live = answer.phase === "waiting" || answer.phase === "searching" || answer.phase === "answering";
  return (
    <article className="message message-answer" aria-busy={live} data-phase={answer.phase}>
      {answer.checkpoint ? (
        <div className="notice notice-checkpoint" role="status" data-testid="checkpoint">
          <strong>Memory reset.</strong> {answer.checkpoint.message}{" "}
          <span className="muted">(Why: {CHECKPOINT_REASONS[answer.checkpoint.reason]}.)</span>
          <div>
            <button type="button" className="button button-small" disabled={busy} onClick={() => onResend(answer)}>
              Resend with my earlier messages
            </button>
          </div>
        </div>
      ) : null}
      <Progress answer={answer} />
      {answer.text ? <AnswerMarkdown answerId={answer.id} text={answer.text} documents={documents} /> : null}
      <Sources answerId={answer.id} documents={documents} />
      {answer.phase === "stopped" ? <p className="muted small">Stopped.</p> : null}
      {answer.finishReason === "length" ? <p className="muted small">The answer reached its length limit.</p> : null}
      {answer.failure ? (
        <div className="notice notice-error" role="alert">
          {answer.failure.message}
          {answer.failure.retryable ? (
            <button type="button" className="button button-small" disabled={busy} onClick={() => onRetry(answer)}>
              Retry
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}

function Progress({ answer }: { readonly answer: AnswerEntry }) {
  if (answer.phase === "waiting") return <p className="progress">Sending…</p>;
  if (answer.phase === "searching") return <p className="progress">Searching…</p>;
  if (answer.documents === null) return null;
  const count = answer.documents.length;
  return (
    <p className="progress progress-found">
      Found {count} source{count === 1 ? "" : "s"}
      {answer.degraded ? " (some sources were unavailable)" : ""}
      {answer.phase === "answering" ? " · answering…" : ""}
    </p>
  );
}
