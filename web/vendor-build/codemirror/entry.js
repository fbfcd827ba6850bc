// Burnin's CodeMirror 6 bundle: one global, window.BurninEditor. Built by build.sh into
// web/static/vendor/codemirror/codemirror.min.js; not loaded from here at run time.
//
// BurninEditor.create(textarea, {language, readOnly, theme, minRows, maxHeight}) replaces the
// textarea with an editor (language: python, markdown, json or text; others fall back to
// text). The textarea stays in the DOM (hidden) and always holds the
// editor's text, so plain forms and htmx keep submitting it; every change fires a bubbling
// `input` event on the textarea (autosave listens for it) and leaving the editor after a
// change fires `change`. Keyboard: Tab indents; Escape then Tab (or Shift-Tab) moves focus
// out, so the editor never traps keyboard users.
import { basicSetup } from "codemirror";
import { EditorView, keymap } from "@codemirror/view";
import { EditorState, Compartment, Annotation } from "@codemirror/state";
import { indentWithTab } from "@codemirror/commands";
import { indentUnit } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { markdown } from "@codemirror/lang-markdown";
import { json } from "@codemirror/lang-json";
import { oneDark } from "@codemirror/theme-one-dark";

const LANGUAGES = {
  python: () => [python(), indentUnit.of("    ")],
  markdown: () => [markdown({ completeHTMLTags: false }), EditorView.lineWrapping],
  json: () => [json()],
  text: () => [EditorView.lineWrapping],
};

// Changes made by setValue(..., {silent: true}) do not fire `input` (e.g. restoring a copy
// the server already has).
const silent = Annotation.define();
const instances = new WeakMap();

function labelOf(textarea) {
  const aria = textarea.getAttribute("aria-label");
  if (aria) return aria;
  const labels = textarea.labels ? Array.from(textarea.labels) : [];
  if (labels.length) return labels.map((l) => l.textContent.trim()).join(" ");
  return textarea.name || "Editor";
}

function baseTheme(minRows, maxHeight) {
  return EditorView.theme({
    "&": {
      border: "1px solid #9aa3b0",
      borderRadius: "6px",
      backgroundColor: "#fff",
      fontSize: "14px",
      maxHeight: maxHeight,
    },
    "&.cm-focused": { outline: "3px solid #3b82f6", outlineOffset: "2px" },
    ".cm-scroller": {
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      lineHeight: "1.45",
      minHeight: `calc(${minRows} * 1.45em + 8px)`,
      overflow: "auto",
    },
  });
}

function create(textarea, options = {}) {
  if (!(textarea instanceof HTMLTextAreaElement)) {
    throw new TypeError("BurninEditor.create needs a <textarea>");
  }
  const existing = instances.get(textarea);
  if (existing) return existing;

  // A scenario may name a language this bundle does not highlight (bash, yaml, cuda...):
  // the editor still works, as plain text, rather than breaking the page's other scripts.
  let language = options.language || textarea.dataset.editor || "text";
  if (!Object.hasOwn(LANGUAGES, language)) {
    console.warn(`BurninEditor: no highlighting for ${JSON.stringify(language)}; ` +
      `plain text instead (have: ${Object.keys(LANGUAGES).join(", ")})`);
    language = "text";
  }
  const readOnly = Boolean(options.readOnly ?? (textarea.readOnly || textarea.disabled ||
    textarea.dataset.readonly === "true"));
  const minRows = options.minRows || Number(textarea.getAttribute("rows")) || 8;
  const maxHeight = options.maxHeight || "70vh";
  const dark = options.theme === "dark";

  // A hidden required control would block form submission silently; the editor carries
  // aria-required instead and the original attribute is restored by destroy().
  const wasRequired = textarea.required;
  textarea.required = false;

  let changedSinceFocus = false;
  const readOnlyCompartment = new Compartment();
  const contentAttrs = {
    "aria-label": labelOf(textarea),
    "aria-multiline": "true",
  };
  if (wasRequired) contentAttrs["aria-required"] = "true";
  const describedBy = textarea.getAttribute("aria-describedby");
  if (describedBy) contentAttrs["aria-describedby"] = describedBy;

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        LANGUAGES[language](),
        readOnlyCompartment.of(EditorState.readOnly.of(readOnly)),
        baseTheme(minRows, maxHeight),
        dark ? oneDark : [],
        EditorView.contentAttributes.of(contentAttrs),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          if (update.transactions.some((tr) => tr.annotation(silent))) return;
          changedSinceFocus = true;
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
        EditorView.domEventHandlers({
          blur: () => {
            if (changedSinceFocus) {
              changedSinceFocus = false;
              textarea.dispatchEvent(new Event("change", { bubbles: true }));
            }
          },
        }),
      ],
    }),
  });

  view.dom.classList.add("burnin-editor", `burnin-editor-${language}`);
  if (textarea.id) view.dom.dataset.for = textarea.id;
  textarea.insertAdjacentElement("afterend", view.dom);
  const oldDisplay = textarea.style.display;
  textarea.style.display = "none";

  // Clicking the textarea's <label> focuses the editor, as it focused the textarea.
  const labels = textarea.labels ? Array.from(textarea.labels) : [];
  const focusFromLabel = (event) => {
    event.preventDefault();
    view.focus();
  };
  labels.forEach((l) => l.addEventListener("click", focusFromLabel));

  const editor = {
    view,
    textarea,
    language,
    getValue: () => view.state.doc.toString(),
    setValue(text, { silent: quiet = false } = {}) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: String(text) },
        annotations: quiet ? silent.of(true) : [],
      });
    },
    setReadOnly(value) {
      view.dispatch({
        effects: readOnlyCompartment.reconfigure(EditorState.readOnly.of(Boolean(value))),
      });
    },
    focus: () => view.focus(),
    destroy() {
      labels.forEach((l) => l.removeEventListener("click", focusFromLabel));
      textarea.value = view.state.doc.toString();
      view.destroy();
      view.dom.remove();
      textarea.style.display = oldDisplay;
      textarea.required = wasRequired;
      instances.delete(textarea);
    },
  };
  instances.set(textarea, editor);
  return editor;
}

// Every <textarea data-editor="python|markdown|json|text"> under root (default: document)
// becomes an editor; already enhanced ones are left alone. Runs on page load and on every
// htmx swap, so server-rendered fragments need no script of their own.
function enhance(root = document) {
  const found = [];
  if (root instanceof HTMLTextAreaElement && root.dataset.editor) found.push(root);
  if (root.querySelectorAll) found.push(...root.querySelectorAll("textarea[data-editor]"));
  return found.map((t) => create(t));
}

window.BurninEditor = {
  create,
  enhance,
  get: (textarea) => instances.get(textarea) || null,
  languages: Object.keys(LANGUAGES),
};

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => enhance(document));
} else {
  enhance(document);
}
document.addEventListener("htmx:load", (event) => enhance(event.detail.elt));
