import { sourceAnchor } from "@/chat/citations";
import type { RetrievedDocument } from "@/chat/events";

interface Props {
  readonly answerId: string;
  readonly documents: readonly RetrievedDocument[];
}

/** The sources an answer may cite, in citation order; the user's own workouts are marked. */
export function Sources({ answerId, documents }: Props) {
  if (!documents.length) return null;
  return (
    <details className="sources" open>
      <summary>
        {documents.length} source{documents.length === 1 ? "" : "s"}
      </summary>
      <ol>
        {documents.map((document, index) => (
          <li key={`${document.id}-${index}`} id={sourceAnchor(answerId, index + 1)} tabIndex={-1}>
            <span className="source-title">{document.title}</span>
            {document.source === "workout" ? <span className="badge badge-workout">Your workout</span> : null}
          </li>
        ))}
      </ol>
    </details>
  );
}
