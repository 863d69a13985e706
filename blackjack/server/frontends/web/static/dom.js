// Building the page's elements: text is always a text node, never HTML.
//
// Everything a player wrote (names, chat) reaches the page through h() or
// setText(), which insert it as text: a "<script>" in a chat line is shown as
// those characters and runs nothing.  No module of the page parses HTML from
// a string (tests/test_web_site.py checks the shipped files).

/** An element with attributes (strings; booleans add or omit) and children (text or nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's content with text. */
export function setText(el, text) {
  el.textContent = text;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
}

/** The element with this id (the page's structure is fixed in index.html). */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

/** A signed amount of chips: "+10", "-5", "0". */
export function signed(n) {
  return n > 0 ? `+${n}` : String(n).replace("-", "\u2212");
}
