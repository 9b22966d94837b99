import { describe, expect, it } from "vitest";
import type { ChatEvent } from "./events";
import { type AnswerEntry, type ChatState, chatReducer, initialChat, recapMessage } from "./transcript";

function answerOf(state: ChatState, id: string): AnswerEntry {
  const entry = state.entries.find((e) => e.id === id);
  if (!entry || entry.kind !== "answer") throw new Error("no answer");
  return entry;
}

function play(state: ChatState, answerId: string, events: ChatEvent[]): ChatState {
  return events.reduce((s, event) => chatReducer(s, { type: "event", answerId, event }), state);
}

describe("chatReducer", () => {
  it("builds an answer from progress, deltas and done, and keeps the turn", () => {
    let state = chatReducer(initialChat("c1"), { type: "sent", userId: "u1", answerId: "a1", text: "Hi" });
    expect(state.streamingId).toBe("a1");
    state = play(state, "a1", [
      { id: 1, event: "retrieval_start", data: { type: "retrieval_start", query: "Hi" } },
    ]);
    expect(answerOf(state, "a1").phase).toBe("searching");
    state = play(state, "a1", [
      {
        id: 2,
        event: "documents_found",
        data: { type: "documents_found", count: 1, degraded: false, documents: [{ id: "w", title: "Leg day", source: "workout", score: 1 }] },
      },
      { id: 3, event: "response", data: { type: "response", delta: "Hello " } },
      { id: 4, event: "response", data: { type: "response", delta: "there [1]" } },
      { id: 5, event: "done", data: { type: "done", turn: 4, finish_reason: "stop", model: "offline" } },
    ]);
    state = chatReducer(state, { type: "finished", answerId: "a1", outcome: { kind: "done", done: { type: "done", turn: 4, finish_reason: "stop", model: "offline" } } });
    const answer = answerOf(state, "a1");
    expect(answer.text).toBe("Hello there [1]");
    expect(answer.phase).toBe("done");
    expect(answer.documents?.[0]?.source).toBe("workout");
    expect(state.turn).toBe(4);
    expect(state.streamingId).toBeNull();
  });

  it("records a checkpoint and a retryable error", () => {
    let state = chatReducer(initialChat("c1"), { type: "sent", userId: "u1", answerId: "a1", text: "Hi" });
    state = play(state, "a1", [
      { id: 1, event: "checkpoint", data: { type: "checkpoint", reason: "memory_expired", message: "gone" } },
      { id: 2, event: "error", data: { type: "error", code: "llm_overloaded", message: "busy", retryable: true } },
    ]);
    const answer = answerOf(state, "a1");
    expect(answer.checkpoint?.reason).toBe("memory_expired");
    expect(answer.failure).toEqual({ message: "busy", retryable: true });
    expect(answer.phase).toBe("failed");
  });

  it("marks an interrupted turn as stopped, and a problem as failed", () => {
    let state = chatReducer(initialChat("c1"), { type: "sent", userId: "u1", answerId: "a1", text: "Hi" });
    state = play(state, "a1", [{ id: 1, event: "done", data: { type: "done", turn: 1, finish_reason: "interrupted", model: "offline" } }]);
    expect(answerOf(state, "a1").phase).toBe("stopped");
    state = chatReducer(state, { type: "sent", userId: "u2", answerId: "a2", text: "Again" });
    state = chatReducer(state, { type: "finished", answerId: "a2", outcome: { kind: "problem", status: 503, problem: null } });
    expect(answerOf(state, "a2").failure?.retryable).toBe(true);
  });

  it("starts a new conversation from scratch", () => {
    let state = chatReducer(initialChat("c1"), { type: "sent", userId: "u1", answerId: "a1", text: "Hi" });
    state = play(state, "a1", [{ id: 1, event: "done", data: { type: "done", turn: 1, finish_reason: "stop", model: "offline" } }]);
    state = chatReducer(state, { type: "new-chat", conversationId: "c2" });
    expect(state).toEqual(initialChat("c2"));
  });
});

describe("recapMessage", () => {
  it("quotes the earlier user messages before the question, within the limit", () => {
    let state = initialChat("c1");
    state = chatReducer(state, { type: "sent", userId: "u1", answerId: "a1", text: "I squat 100 kg" });
    state = chatReducer(state, { type: "sent", userId: "u2", answerId: "a2", text: "What next?" });
    expect(recapMessage(state.entries, "a2")).toBe("Earlier in this conversation I said:\n- I squat 100 kg\n\nWhat next?");
    expect(recapMessage(state.entries, "a2", 20)).toBe("What next?");
  });
});
