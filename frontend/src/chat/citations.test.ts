import { describe, expect, it } from "vitest";
import { linkCitations, sourceAnchor } from "./citations";

describe("linkCitations", () => {
  it("links citations that name a source", () => {
    expect(linkCitations("Squat 3x5 [1], rest [2].", "a", 2)).toBe(
      `Squat 3x5 [\\[1\\]](#${sourceAnchor("a", 1)}), rest [\\[2\\]](#${sourceAnchor("a", 2)}).`,
    );
  });

  it("leaves numbers without a source, links and escaped brackets alone", () => {
    expect(linkCitations("See [3] and [1](http://x) and \\[1]", "a", 2)).toBe("See [3] and [1](http://x) and \\[1]");
  });
});
