/**
 * Makes the answer's `[n]` citations into links to the n-th source listed under it. Only
 * numbers that name a retrieved document are linked; `[n](...)` Markdown links are left alone.
 */

const CITATION = /(?<![\\\]])\[(\d{1,3})\](?![(:[])/g;

export function sourceAnchor(answerId: string, n: number): string {
  return `source-${answerId}-${n}`;
}

export function linkCitations(markdown: string, answerId: string, sourceCount: number): string {
  return markdown.replace(CITATION, (whole, digits: string) => {
    const n = Number(digits);
    return n >= 1 && n <= sourceCount ? `[\\[${n}\\]](#${sourceAnchor(answerId, n)})` : whole;
  });
}
