// Every visible text's contrast against what is behind it (WCAG 2 relative luminance).
// Returns the texts below AA: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
() => {
  function rgba(value) {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  function over(top, bottom) {
    const a = top.a + bottom.a * (1 - top.a);
    if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
    const mix = (t, b) => (t * top.a + b * bottom.a * (1 - top.a)) / a;
    return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a };
  }
  function background(el) {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = rgba(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a === 1) break; }
    }
    let color = { r: 255, g: 255, b: 255, a: 1 };
    const html = rgba(getComputedStyle(document.documentElement).backgroundColor);
    if (html && html.a > 0) color = over(html, color);
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  }
  function lum(c) {
    const ch = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
  }
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode;
    if (!text.nodeValue.trim()) continue;
    const el = text.parentElement;
    if (!el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest("[hidden], .visually-hidden, script, style, noscript, title, desc, template, option")) continue;
    // Inactive controls are exempt (WCAG 1.4.3): the Custom permissions while a preset is chosen.
    if (el.closest(".custom-permissions") && !document.querySelector("input[name=preset][value=custom]:checked")) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width < 2 || rect.height < 2) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const bg = background(el);
    let fg = rgba(style.color);
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const o = Number(getComputedStyle(node).opacity);
      if (o < 1) fg = { ...fg, a: fg.a * o };
    }
    fg = over(fg, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio < needed - 0.01) {
      failures.push(`${ratio.toFixed(2)}:1 "${text.nodeValue.trim().slice(0, 40)}" <${el.tagName.toLowerCase()} class="${el.className}"> ${style.color} on rgb(${Math.round(bg.r)},${Math.round(bg.g)},${Math.round(bg.b)})`);
    }
  }
  return failures;
}
