import type { AnchorHTMLAttributes } from "react";
import ReactMarkdown from "react-markdown";
import remarkGfm from "remark-gfm";
import { linkCitations, sourceAnchor } from "@/chat/citations";
import type { RetrievedDocument } from "@/chat/events";

interface Props {
  readonly answerId: string;
  readonly text: string;
  readonly documents: readonly RetrievedDocument[];
}

/** The answer as Markdown (raw HTML is never rendered), with `[n]` linked to its sources. */
export function AnswerMarkdown({ answerId, text, documents }: Props) {
  const prefix = `#${sourceAnchor(answerId, 0).slice(0, -1)}`;
  function Link({ href, children, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement>) {
    if (href?.startsWith(prefix)) {
      const n = Number(href.slice(prefix.length));
      const document = documents[n - 1];
      return (
        <a {...rest} href={href} className="citation" title={document?.title} aria-label={`Source ${n}: ${document?.title ?? ""}`}>
          {children}
        </a>
      );
    }
    return (
      <a {...rest} href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  }
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={[remarkGfm]} skipHtml components={{ a: Link }}>
        {linkCitations(text, answerId, documents.length)}
      </ReactMarkdown>
    </div>
  );
}
