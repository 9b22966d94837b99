/**
 * The conversation as the page shows it, kept in React state: the user's messages and the
 * answers as they build up from stream events. A pure reducer, so every transition is tested
 * without a browser.
 */

import type { ChatEvent, CheckpointPayload, DonePayload, RetrievedDocument } from "./events";
import type { TurnOutcome } from "./turn-client";

export interface UserEntry {
  readonly kind: "user";
  readonly id: string;
  readonly text: string;
}

export type AnswerPhase = "waiting" | "searching" | "answering" | "done" | "stopped" | "failed";

export interface AnswerEntry {
  readonly kind: "answer";
  readonly id: string;
  /** The message this answers, for retry and resend. */
  readonly question: string;
  readonly phase: AnswerPhase;
  readonly query: string | null;
  readonly documents: readonly RetrievedDocument[] | null;
  readonly degraded: boolean;
  readonly text: string;
  readonly checkpoint: CheckpointPayload | null;
  readonly failure: { readonly message: string; readonly retryable: boolean } | null;
  readonly finishReason: DonePayload["finish_reason"] | null;
}

export type Entry = UserEntry | AnswerEntry;

export interface ChatState {
  readonly conversationId: string;
  /** The `turn` of the last `done` event, sent back as `X-Conversation-Turn`. */
  readonly turn: number;
  readonly entries: readonly Entry[];
  /** The answer being streamed, if any: sending is disabled while it is set. */
  readonly streamingId: string | null;
}

export type ChatAction =
  | { readonly type: "sent"; readonly userId: string; readonly answerId: string; readonly text: string }
  | { readonly type: "event"; readonly answerId: string; readonly event: ChatEvent }
  | { readonly type: "finished"; readonly answerId: string; readonly outcome: TurnOutcome }
  | { readonly type: "new-chat"; readonly conversationId: string };

export function initialChat(conversationId: string): ChatState {
  return { conversationId, turn: 0, entries: [], streamingId: null };
}

const RETRYABLE_STATUSES = new Set([409, 429, 502, 503, 504]);

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "new-chat":
      return initialChat(action.conversationId);
    case "sent":
      return {
        ...state,
        streamingId: action.answerId,
        entries: [
          ...state.entries,
          { kind: "user", id: action.userId, text: action.text },
          {
            kind: "answer",
            id: action.answerId,
            question: action.text,
            phase: "waiting",
            query: null,
            documents: null,
            degraded: false,
            text: "",
            checkpoint: null,
            failure: null,
            finishReason: null,
          },
        ],
      };
    case "event": {
      const next = updateAnswer(state, action.answerId, (answer) => applyEvent(answer, action.event));
      return action.event.event === "done" ? { ...next, turn: action.event.data.turn } : next;
    }
    case "finished":
      return {
        ...updateAnswer(state, action.answerId, (answer) => applyOutcome(answer, action.outcome)),
        streamingId: state.streamingId === action.answerId ? null : state.streamingId,
      };
  }
}

function updateAnswer(state: ChatState, id: string, change: (answer: AnswerEntry) => AnswerEntry): ChatState {
  return {
    ...state,
    entries: state.entries.map((entry) => (entry.kind === "answer" && entry.id === id ? change(entry) : entry)),
  };
}

function applyEvent(answer: AnswerEntry, event: ChatEvent): AnswerEntry {
  switch (event.event) {
    case "checkpoint":
      return { ...answer, checkpoint: event.data };
    case "retrieval_start":
      return { ...answer, phase: "searching", query: event.data.query };
    case "documents_found":
      return { ...answer, phase: "answering", documents: event.data.documents, degraded: event.data.degraded };
    case "response":
      return { ...answer, phase: "answering", text: answer.text + event.data.delta };
    case "done":
      return {
        ...answer,
        phase: event.data.finish_reason === "interrupted" ? "stopped" : "done",
        finishReason: event.data.finish_reason,
      };
    case "error":
      return { ...answer, phase: "failed", failure: { message: event.data.message, retryable: event.data.retryable } };
  }
}

function applyOutcome(answer: AnswerEntry, outcome: TurnOutcome): AnswerEntry {
  switch (outcome.kind) {
    case "done":
    case "error":
      return answer; // already applied from the terminal event
    case "aborted":
      return { ...answer, phase: "stopped" };
    case "dropped":
      return { ...answer, phase: "failed", failure: { message: "The connection was lost.", retryable: true } };
    case "problem":
      return {
        ...answer,
        phase: "failed",
        failure: {
          message: outcome.problem?.detail ?? outcome.problem?.title ?? `The request failed (HTTP ${outcome.status}).`,
          retryable: RETRYABLE_STATUSES.has(outcome.status),
        },
      };
  }
}

/**
 * The message to resend after a memory reset: the user's earlier messages in this
 * conversation as a short recap, then the question, within the service's 4000 characters.
 */
export function recapMessage(entries: readonly Entry[], answerId: string, limit = 4000): string {
  const index = entries.findIndex((entry) => entry.id === answerId);
  const answer = entries[index];
  if (!answer || answer.kind !== "answer") return "";
  const earlier = entries
    .slice(0, Math.max(0, index - 1))
    .filter((entry): entry is UserEntry => entry.kind === "user")
    .map((entry) => `- ${entry.text}`);
  const question = answer.question;
  let recap = earlier;
  const compose = (lines: string[]) =>
    lines.length ? `Earlier in this conversation I said:\n${lines.join("\n")}\n\n${question}` : question;
  while (recap.length && compose(recap).length > limit) recap = recap.slice(1);
  return compose(recap).slice(0, limit);
}
