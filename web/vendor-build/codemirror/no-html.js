// Stands in for @codemirror/lang-html, which @codemirror/lang-markdown imports to highlight
// HTML inside Markdown. Candidates' Markdown rarely holds HTML, and the real package pulls
// in the HTML, CSS and JavaScript parsers (about 140 kB of the bundle). HTML in Markdown
// is shown as plain text instead.
import { LanguageSupport, StreamLanguage } from "@codemirror/language";

const plain = StreamLanguage.define({
  name: "html",
  token(stream) {
    stream.skipToEnd();
    return null;
  },
});

export function html() {
  return new LanguageSupport(plain);
}

export function htmlCompletionSource() {
  return null;
}
