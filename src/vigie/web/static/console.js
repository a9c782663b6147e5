// Vigie review console. Everything the server sends is put into the page as text, never as HTML.
"use strict";

const PAGE = 200;  // cards fetched at a time; "More" (or `j` on the last card) asks for the next page
const state = { me: null, entries: [], total: 0, progress: null, more: false, want: PAGE, selected: 0, revealedId: null, keep: null,
                focusId: null, loads: 0, marked: new Set(),  // marked: stacks chosen for a bulk action
                holding: false, persons: [] };  // holding: a hold-to-reveal key or button is down
const $ = (id) => document.getElementById(id);
const ROOT = document.body.dataset.root || "";  // where this case's console is on a server of many cases: /cases/NAME

// The page's language: the server embeds its catalogue (the English message is the key, so a message the
// catalogue lacks shows in English). Placeholders are {name}; a plural message has one form per grammatical number.
const CATALOGUE = JSON.parse(document.getElementById("catalogue").textContent);
function fill(text, values) { return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole)); }
function t(message, values = {}) { return fill(CATALOGUE.messages[message] || message, values); }
function tn(singular, plural, n, values = {}) {
  const one = CATALOGUE.singular.includes(n), forms = CATALOGUE.messages[singular];
  return fill(Array.isArray(forms) ? forms[one ? 0 : 1] : one ? singular : plural, { n, ...values });
}
// Verdicts, review classes and roles: codes the server sends with their words in this language.
function word(code) { return state.me.words[code] || code; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// The export is fetched, not posted by the form, so that the dialog says what it left out (the answer's
// X-Vigie-Left-Out header, one line per reason), as the command line does; its audit entry counts them too.
async function exportDownload(event) {
  event.preventDefault();
  $("export-items").value = $("export-selected").checked && selectedEntry() ? String(selectedEntry().id) : "";
  const form = $("export-form");
  const say = (lines) => $("export-said").replaceChildren(...lines.map((line) => {
    const said = document.createElement("p");
    said.textContent = line;
    return said;
  }));
  say([t("Exporting…")]);
  const response = await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
  if (response.status === 401) { window.location = "/login"; return; }
  if (!response.ok) {
    const data = await response.json().catch(() => ({ error: t("the server answered {status}", { status: response.status }) }));
    say([data.error || response.statusText]);
    return;
  }
  const named = /filename="([^"]*)"/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? named[1] : "export";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  const leftOut = JSON.parse(response.headers.get("X-Vigie-Left-Out") || "[]");
  say([t("Downloaded {name}.", { name: link.download }), ...(leftOut.length ? leftOut : [t("Nothing left out.")])]);
}

async function call(method, url, body) {
  const options = { method, headers: { "X-CSRF-Token": state.me ? state.me.csrf_token : "" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(ROOT + url, options);
  if (response.status === 401) { window.location = "/login"; throw new Error("logged out"); }
  // an answer that is not JSON (a proxy's error page) still says what happened, in this language
  const data = await response.json().catch(() => ({ error: t("the server answered {status}", { status: response.status }) }));
  if (!response.ok) {
    const error = new Error(data.error || response.statusText);
    error.conflict = data.conflict || null;  // a 409: the colleague's decision that made this screen stale
    throw error;
  }
  return data;
}

function categoryLabel(code) {
  const found = state.me.categories.find((c) => c.code === code);
  return found ? found.label : code;
}

function codeAndMeaning(code) {
  const label = categoryLabel(code);
  return label === code ? code : `${code} — ${label}`;
}

function decisionText(decision) {
  if (!decision) return null;
  const parts = [];
  if (decision.category !== null) parts.push(categoryLabel(decision.category));
  for (const tag of decision.ai_tags) parts.push(state.me.ai_tags.find((t) => t.code === tag)?.label || tag);
  return parts.join(" · ");
}

// What an audit entry did, as the server words it in this language; the log's own code (what `vigie audit show`
// prints) stays in the cell's title.
function actionCell(entry) {
  return el("td", { text: entry.what, title: entry.action });
}

// An audit entry's details as labelled fields (the server translates the labels; the values are data).
function fieldsCell(fields) {
  const clip = (value) => (value.length > 300 ? value.slice(0, 300) + "…" : value);
  const capital = (label) => label.charAt(0).toUpperCase() + label.slice(1);
  return el("td", { class: "fields" }, ...fields.map(([label, value]) => el("div", { text: t("{label}: {value}", { label: capital(label), value: clip(value) }) })));
}

function decisionChange(entry) {
  if (entry.action === "undecide") return t("set back to undecided");
  if (entry.action === "undo") return t("undid entry #{seq}", { seq: entry.details.undoes });
  const scope = { stack: t("whole stack"), item: t("this copy only") }[entry.details.scope] || entry.details.scope;
  return decisionText({ category: entry.details.category, ai_tags: entry.details.ai_tags || [] }) + ` (${scope})`;
}

function filterQuery() {
  const params = new URLSearchParams();
  const pairs = { status: "f-status", priority: "f-priority", list: "f-list", category: "f-category", ai: "f-ai",
                  person: "f-person", media: "f-media", deleted: "f-deleted", folder: "f-folder", q: "f-q", min_score: "f-min-score", sort: "f-sort", claims: "f-claims" };
  for (const [name, id] of Object.entries(pairs)) if ($(id).value) params.set(name, $(id).value);
  return params;
}

// The first `count` entries under the filter, in pages the server allows (at most 500 each).
async function fetchEntries(params, count) {
  let data = null;
  const entries = [];
  for (let offset = 0; offset !== null && entries.length < count; offset = data.next) {
    params.set("offset", String(offset));
    params.set("limit", String(Math.min(500, count - entries.length)));
    data = await call("GET", "/api/queue?" + params.toString());
    entries.push(...data.entries);
  }
  return { ...data, entries };
}

// The console shows the first `state.want` entries of the filter: reloads keep what "More" added, so the
// selected card stays in view, and an offset never goes stale while decisions take cards off the queue.
async function loadQueue(keepPosition = false) {
  if (!keepPosition) state.want = PAGE;
  showPerson();
  const load = ++state.loads;
  const epoch = actions.epoch;
  const data = await fetchEntries(filterQuery(), state.want);
  // A newer load, or a key pressed while this one was on its way, makes this answer stale: the cards it
  // lists may be ones a queued action has already decided. The load after the queue drains replaces it.
  if (load !== state.loads || epoch !== actions.epoch || actions.pending) return;
  const shown = selectedEntry();
  const kept = state.entries.find((e) => e.id === state.keep);
  state.entries = data.entries;
  state.total = data.total;
  state.more = data.next !== null;
  state.progress = data.progress;
  state.marked = new Set(state.entries.filter((e) => state.marked.has(e.id)).map((e) => e.id));  // only what is shown
  if (kept && !state.entries.some((e) => e.id === kept.id)) state.entries.splice(Math.min(state.selected, state.entries.length), 0, kept);
  const wanted = state.focusId ?? (keepPosition && shown ? shown.id : null);
  state.focusId = null;
  const found = state.entries.findIndex((e) => e.id === wanted);
  if (found >= 0) state.selected = found;
  else if (!keepPosition) state.selected = 0;
  state.selected = Math.min(state.selected, Math.max(0, state.entries.length - 1));
  state.revealedId = null;
  showProgress(data.progress);
  renderQueue();
  viewerFollow();
  showMarks();
  await showDetail();
}

// Under the person filter: whom the grid shows, by their group's representative face (blurred, as every crop).
function showPerson() {
  const person = state.persons.find((p) => String(p.id) === $("f-person").value);
  $("person-view").hidden = !person;
  if (!person) { $("person-view").replaceChildren(); return; }
  const who = personName(person.id, person.name);
  const face = person.face === null ? el("span", { class: "muted", text: t("no face kept") })
    : faceCrop({ id: person.face }, who, false);
  const where = tn("in {n} item", "in {n} items", person.items);
  const others = state.persons.filter((p) => p.id !== person.id);
  let merge = null;
  if (state.me.can_decide && others.length) {
    merge = el("select", { id: "person-merge", "aria-label": t("merge another person into {who}", { who }) },
      el("option", { value: "", text: t("merge another person into this one…") }),
      ...others.map((p) => el("option", { value: String(p.id), text: personName(p.id, p.name) })));
    onChosen(merge, () => {
      const absorb = state.persons.find((p) => String(p.id) === merge.value);
      if (absorb && window.confirm(t("Move every face of {absorbed} into {who}? Later groupings keep them together.",
        { absorbed: personName(absorb.id, absorb.name), who }))) changePersons("/api/persons/merge", { keep: person.id, absorb: absorb.id });
      else merge.value = "";
    });
  }
  $("person-view").replaceChildren(face, el("span", { text: `${who} · ${where}` }), merge);
}

// A reviewer corrects the grouping from a face: names its person, or takes the face out of it (a new person,
// kept apart by later groupings). Each change is audited under the reviewer; a refusal says why.
function personActions(face, who) {
  const name = el("button", { type: "button", class: "person-name", text: t("Name…"), "aria-label": t("name {who}", { who }) });
  name.addEventListener("click", () => {
    const given = window.prompt(t("Name for {who}", { who }), face.person_name || "");
    if (given && given.trim()) changePersons(`/api/persons/${face.person}/name`, { name: given.trim() });
  });
  const out = el("button", { type: "button", class: "person-split", text: t("Not this person"), "aria-label": t("this face is not {who}", { who }) });
  out.addEventListener("click", () => {
    if (window.confirm(t("Take this face out of {who} into a new person? Later groupings keep them apart.", { who })))
      changePersons(`/api/persons/${face.person}/split`, { faces: [face.id] });
  });
  return el("div", { class: "person-actions" }, name, " ", out);
}

async function changePersons(url, body) {
  try {
    await call("POST", url, body);
  } catch (error) { showError(error.message); return; }
  await loadPersons();
  await loadQueue(true);  // the person filter's items may have changed; the selected card stays
}

async function loadPersons() {
  const shown = $("f-person").value;
  state.persons = (await call("GET", "/api/filters")).persons;
  $("f-person").replaceChildren($("f-person").options[0]);
  fillSelect("f-person", state.persons.map((p) => [p.id, `${personName(p.id, p.name)} (${p.items})`]));
  $("f-person").value = state.persons.some((p) => String(p.id) === shown) ? shown : "";
}

function personName(id, name) {
  return t("person {id}", { id }) + (name ? " " + name : "");
}

function showProgress(progress) {
  $("progress").textContent = [
    tn("{n} of {entries} queue entries decided", "{n} of {entries} queue entries decided", progress.decided, { entries: progress.entries }),
    tn("{n} shown by the filter", "{n} shown by the filter", state.total)].join(" · ");
}

function blurredImage(entry) {
  const image = el("img", { src: thumbUrl(entry), alt: t("blurred preview"), class: "thumb" });
  image.addEventListener("error", () => image.replaceWith(el("span", { class: "muted", text: t("no preview (unreadable)") })));
  return image;
}

function thumbUrl(entry) {
  // The server blurs with the user's settings, never from the URL: `view` only gives the thumbnail a new URL
  // when those settings change, so the browser does not show one blurred the old way from its memory.
  const s = state.me.settings;
  return `${ROOT}/media/${entry.id}/thumb?view=${s.blur}-${s.greyscale ? "grey" : "colour"}`;
}

function card(entry, index) {
  const frame = el("div", { class: "frame" });
  frame.append(blurredImage(entry));
  const badges = el("div", { class: "badges" },
    el("span", { class: "badge" + (entry.priority === "known" ? " known" : entry.priority === "unknown-with-face" ? " face" : ""), text: word(entry.priority) }));
  if (entry.members > 1) badges.append(el("span", { class: "badge", text: tn("×{n} copy", "×{n} copies", entry.members) }));
  if (entry.ai_verdict !== state.me.undetermined) badges.append(el("span", { class: "badge", text: word(entry.ai_verdict) }));
  if (entry.ai_score !== null) badges.append(el("span", { class: "badge", text: t("detector {score}", { score: entry.ai_score.toFixed(2) }) }));
  if (entry.list_category !== null) badges.append(el("span", { class: "badge known", text: t("list: {category}", { category: codeAndMeaning(entry.list_category) }) }));
  const decided = decisionText(entry.decision);
  if (decided) badges.append(el("span", { class: "badge decided", text: decided }));
  if (entry.changed) {
    badges.append(el("span", { class: "badge changed", text: decided ? t("decided by {who} a moment ago", { who: entry.changed.by })
      : t("set back to undecided by {who} a moment ago", { who: entry.changed.by }) }));
  }
  const claim = claimText(entry);
  if (claim) badges.append(el("span", { class: "badge claimed", text: claim }));
  const node = el("article", { class: "card" + (index === state.selected ? " selected" : "") + (state.marked.has(entry.id) ? " marked" : ""),
                               "data-id": String(entry.id), id: `card-${entry.id}`, role: "option",
                               "aria-selected": String(state.marked.has(entry.id)) },
                  frame, el("div", { class: "path mono", text: entry.path }), badges);
  const position = () => state.entries.findIndex((e) => e.id === entry.id);
  node.addEventListener("click", (event) => {
    if (event.shiftKey) { markRange(state.selected, position()); event.preventDefault(); }
    select(position());
  });
  frame.addEventListener("click", (event) => {
    if (position() !== state.selected) return;
    event.stopPropagation();
    if (!state.me.settings.hold_to_reveal) toggleReveal();
  });
  frame.addEventListener("pointerdown", () => { if (state.me.settings.hold_to_reveal && position() === state.selected) holdReveal(); });
  for (const end of ["pointerup", "pointerleave", "pointercancel"]) {
    frame.addEventListener(end, () => { if (state.me.settings.hold_to_reveal && state.holding) releaseReveal(); });
  }
  return node;
}

function renderQueue() {
  const queue = $("queue"), foot = $("queue-foot");  // the foot holds what is not a card, outside the listbox
  queue.replaceChildren();
  foot.replaceChildren();
  queue.removeAttribute("aria-activedescendant");
  if (!state.entries.length) {
    // "Clear" only when the case is: undecided stacks a colleague claimed, or other filters hide, are said to be left.
    const left = state.progress ? state.progress.entries - state.progress.decided : 0;
    const text = $("f-status").value !== "undecided" ? t("Nothing matches this filter.")
      : left > 0 ? tn("Nothing undecided under this filter, but {n} queue entry is still undecided: claimed by a colleague, or outside the filter.",
                      "Nothing undecided under this filter, but {n} queue entries are still undecided: claimed by colleagues, or outside the filter.", left)
      : t("Queue clear: nothing left undecided under this filter.");
    foot.append(el("div", { class: "empty", id: "queue-empty", role: "status", text }));
    return;
  }
  state.entries.forEach((entry, index) => queue.append(card(entry, index)));
  queue.setAttribute("aria-activedescendant", `card-${selectedEntry()?.id}`);
  if (state.more) {
    const more = el("button", { type: "button", id: "queue-more", class: "more", text: tn("More ({n} not shown)", "More ({n} not shown)", state.total - state.entries.length) });
    more.addEventListener("click", () => loadMore().catch((error) => showError(error.message)));
    foot.append(more);
  }
}

async function loadMore() {
  state.want = state.entries.length + PAGE;
  await loadQueue(true);
}

// Cards in one row of the grid as it is laid out now (the density and the window's width set it).
function columns() {
  const cards = [...document.querySelectorAll("#queue .card")];
  if (!cards.length) return 1;
  const top = cards[0].offsetTop;
  const inRow = cards.findIndex((node) => node.offsetTop !== top);
  return inRow === -1 ? cards.length : inRow;
}

// Up and down move by one row; down from the last row goes to the last card, or into the next page.
async function moveRows(rows) {
  const cols = columns();
  const target = state.selected + rows * cols;
  if (rows < 0) { if (target >= 0) select(target); return; }
  if (target < state.entries.length) { select(target); return; }
  if (state.more) {
    const from = selectedEntry()?.id;
    await loadMore();
    const at = state.entries.findIndex((e) => e.id === from);
    if (at >= 0) select(Math.min(at + cols, state.entries.length - 1));
  } else if (Math.floor((state.entries.length - 1) / cols) > Math.floor(state.selected / cols)) {
    select(state.entries.length - 1);
  }
}

function showDensity() {
  const density = state.me.settings.density;
  $("density").value = density;
  for (const name of ["compact", "comfortable", "large"]) $("queue").classList.toggle(`density-${name}`, name === density);
}

// `j` on the last card shown loads the next page and moves on into it.
async function next() {
  if (state.selected < state.entries.length - 1 || !state.more) { select(state.selected + 1); return; }
  const last = selectedEntry()?.id;
  await loadMore();
  const at = state.entries.findIndex((e) => e.id === last);
  if (at >= 0) select(at + 1);
}

function selectedEntry() { return state.entries[state.selected]; }

function select(index) {
  if (!state.entries.length) return;
  hideReveal();
  state.selected = Math.max(0, Math.min(index, state.entries.length - 1));
  if (state.keep !== selectedEntry().id) state.keep = null;
  const id = String(selectedEntry().id);
  document.querySelectorAll(".card").forEach((node) => node.classList.toggle("selected", node.dataset.id === id));
  $("queue").setAttribute("aria-activedescendant", `card-${id}`);
  document.querySelector(".card.selected")?.scrollIntoView({ block: "nearest" });
  showDetail();
  viewerFollow();
}

function cardNode(id) { return document.querySelector(`.card[data-id="${id}"]`); }

async function toggleReveal() {
  const entry = selectedEntry();
  if (!entry) return;
  if (state.revealedId === entry.id) { hideReveal(); return; }
  hideReveal();
  const data = await call("POST", `/api/items/${entry.id}/reveal`);
  $("revealed").textContent = t("revealed: {n}", { n: data.revealed });
  const node = cardNode(entry.id);
  // Moved on, or let go (hold-to-reveal), before the answer came: the reveal is recorded, nothing is shown.
  if (!node || selectedEntry()?.id !== entry.id || (state.me.settings.hold_to_reveal && !state.holding)) return;
  const frame = node.querySelector(".frame");
  const media = data.kind === "video"
    ? el("video", { src: data.url, controls: "", class: "clear" })
    : el("img", { src: data.url, alt: t("revealed image"), class: "clear" });
  if (data.kind === "video") { media.muted = true; media.defaultMuted = true; }
  frame.replaceChildren(media);
  node.classList.add("revealed");
  state.revealedId = entry.id;
  showFaceCrops();
}

// Hold-to-reveal (a user's setting): the selected card is clear only while space, r or the mouse is held on it.
function holdReveal() {
  if (state.holding) return;
  state.holding = true;
  toggleReveal().catch((error) => showError(error.message));
}

function releaseReveal() {
  state.holding = false;
  hideReveal();
}

function hideReveal() {
  if (state.revealedId === null) return;
  const entry = state.entries.find((e) => e.id === state.revealedId);
  const node = cardNode(state.revealedId);
  if (node && entry) {
    const frame = node.querySelector(".frame");
    frame.replaceChildren(blurredImage(entry));
    node.classList.remove("revealed");
  }
  state.revealedId = null;
  showFaceCrops();
}

// --- large view: the selected item sized to the window, blurred until revealed; zoom, pan, stills ----------

const ZOOM_STEP = 1.25, MAX_ZOOM = 8, PAN_STEP = 60;
const viewer = { entry: null, stills: [], still: 0, zoom: 1, x: 0, y: 0, revealed: null, holding: false, drag: null };

function stillUrl(entry, index) {
  const s = state.me.settings;
  return `${ROOT}/media/${entry.id}/still/${index}?view=${s.blur}-${s.greyscale ? "grey" : "colour"}`;
}

async function openViewer() {
  const entry = selectedEntry();
  if (!entry) return;
  hideReveal();
  const shown = viewerShow(entry);
  $("viewer").showModal();
  $("viewer-stage").focus();
  await shown;
}

// The large view on `entry`: blurred, unzoomed, its stills (a video's) fetched for the scrub bar.
async function viewerShow(entry) {
  Object.assign(viewer, { entry, stills: [], still: 0, revealed: null, holding: false });
  $("viewer-title").textContent = entry.path;
  const hold = state.me.settings.hold_to_reveal;
  $("viewer-reveal").textContent = hold ? t("Hold to reveal") : t("Reveal");
  $("viewer-reveal").setAttribute("aria-pressed", "false");
  $("viewer-scrub").hidden = true;
  zoomTo(1);
  showViewerMedia();
  showFaceCrops();
  const item = await call("GET", `/api/items/${entry.id}`);
  if (viewer.entry !== entry || !item.stills.length) return;
  viewer.stills = item.stills;
  viewer.still = Math.floor(item.stills.length / 2);  // the still the thumbnail shows
  $("viewer-still").max = String(item.stills.length - 1);
  $("viewer-still").value = String(viewer.still);
  $("viewer-scrub").hidden = false;
  showStill();
  showViewerMedia();
}

function showViewerMedia() {
  const entry = viewer.entry;
  let media;
  if (viewer.revealed?.kind === "video") {
    media = el("video", { src: viewer.revealed.url, controls: "", class: "clear", "aria-label": t("revealed video") });
    media.muted = true; media.defaultMuted = true;
    const at = viewer.stills[viewer.still];
    if (at) media.addEventListener("loadedmetadata", () => { media.currentTime = at.seconds; }, { once: true });
  } else if (viewer.revealed) {
    media = el("img", { src: viewer.revealed.url, alt: t("revealed image"), class: "clear" });
  } else {
    const src = viewer.stills.length ? stillUrl(entry, viewer.still) : thumbUrl(entry);
    media = el("img", { src, alt: t("blurred preview"), class: "blurred" });
    media.addEventListener("error", () => media.replaceWith(el("span", { class: "muted", text: t("no preview (unreadable)") })));
  }
  media.draggable = false;
  $("viewer-media").replaceChildren(media);
}

function showStill() {
  const at = viewer.stills[viewer.still];
  $("viewer-time").textContent = at ? t("still {n} of {count}, at {time}", { n: viewer.still + 1, count: viewer.stills.length, time: at.time }) : "";
  $("viewer-still").setAttribute("aria-valuetext", $("viewer-time").textContent);
}

function scrubTo(index) {
  if (!viewer.stills.length) return;
  viewer.still = Math.max(0, Math.min(index, viewer.stills.length - 1));
  $("viewer-still").value = String(viewer.still);
  showStill();
  const video = $("viewer-media").querySelector("video");
  if (video) video.currentTime = viewer.stills[viewer.still].seconds;
  else showViewerMedia();
}

function zoomTo(zoom) {
  viewer.zoom = Math.max(1, Math.min(MAX_ZOOM, zoom));
  if (viewer.zoom === 1) { viewer.x = 0; viewer.y = 0; }
  panBy(0, 0);
}

function panBy(dx, dy) {
  // No further than the zoomed picture's edges: some of it always fills the stage.
  const stage = $("viewer-stage");
  const limitX = stage.clientWidth * (viewer.zoom - 1) / 2, limitY = stage.clientHeight * (viewer.zoom - 1) / 2;
  viewer.x = Math.max(-limitX, Math.min(limitX, viewer.x + dx));
  viewer.y = Math.max(-limitY, Math.min(limitY, viewer.y + dy));
  $("viewer-media").style.transform = `translate(${viewer.x}px, ${viewer.y}px) scale(${viewer.zoom})`;
  $("viewer-zoom").textContent = `${Math.round(viewer.zoom * 100)}%`;
}

// A reveal in the large view is the console's one reveal: the same audited request as `r` on a card.
async function viewerReveal() {
  const entry = viewer.entry;
  const data = await call("POST", `/api/items/${entry.id}/reveal`);
  $("revealed").textContent = t("revealed: {n}", { n: data.revealed });
  if (viewer.entry !== entry || !$("viewer").open) return;
  if (state.me.settings.hold_to_reveal && !viewer.holding) return;  // let go before the answer came
  viewer.revealed = data;
  $("viewer-reveal").setAttribute("aria-pressed", "true");
  showViewerMedia();
  showFaceCrops();
}

function viewerHide() {
  viewer.holding = false;
  if (!viewer.revealed) return;
  viewer.revealed = null;
  $("viewer-reveal").setAttribute("aria-pressed", "false");
  showViewerMedia();
  showFaceCrops();
}

function viewerToggle() {
  if (viewer.revealed) viewerHide(); else viewerReveal().catch((error) => showError(error.message));
}

function holdStart() {
  if (viewer.holding) return;
  viewer.holding = true;
  viewerReveal().catch((error) => showError(error.message));
}

function viewerKey(event) {
  const key = event.key;
  if ($("help-dialog").open) return;  // the list of keys, opened over the large view
  const hold = state.me.settings.hold_to_reveal;
  if (key === "Tab") { trapFocus(event, $("viewer")); return; }
  if (event.target.closest("input") && key.startsWith("Arrow")) return;  // the scrub bar moves itself
  if (event.target.closest("button") && (key === " " || key === "Enter")) return;  // a focused button's own press
  if (key === "+" || key === "=") zoomTo(viewer.zoom * ZOOM_STEP);
  else if (key === "-" || key === "_") zoomTo(viewer.zoom / ZOOM_STEP);
  else if (key === "f") zoomTo(1);  // not 0: that is a category key
  else if (key.startsWith("Arrow") && viewer.zoom > 1) {
    const moves = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
    panBy(...moves[key]);
  } else if (key === "ArrowLeft" || key === "ArrowRight") scrubTo(viewer.still + (key === "ArrowLeft" ? -1 : 1));
  else if (key === " " || key.toLowerCase() === "r") { if (!event.repeat) { if (hold) holdStart(); else viewerToggle(); } }
  else if (key === "?") $("help-dialog").showModal();
  else if (key.toLowerCase() === "z") undoLast();  // the view then shows the item undone (the grid selects it)
  else if (key === "j" || key === "k") { if (key === "j") next().catch((error) => showError(error.message)); else select(state.selected - 1); }
  else if (!viewerDecide(key.toLowerCase())) return;
  event.preventDefault();
}

// Category and tag keys decide the item the large view shows, queued as on the grid: a category then shows
// the next card, a tag stays on this one (a second press takes it off).
function viewerDecide(key) {
  const category = state.me.categories.find((c) => c.key === key);
  const tag = state.me.ai_tags.find((t) => t.key === key);
  if (!category && !tag) return false;
  if (selectedEntry()?.id === viewer.entry?.id) decide(category ? { category: category.code } : { tag: tag.code });
  else showError(t("the large view was not on the selected card: nothing decided; press the key again"));  // never a silent miss
  viewerFollow();
  return true;
}

// The large view shows the grid's selected card: the next one once a decision moved the grid on (blurred), or
// none, closed, once the queue shown is clear.
function viewerFollow() {
  if (!$("viewer").open) return;
  const entry = selectedEntry();
  if (!entry) $("viewer").close();
  else if (entry.id !== viewer.entry?.id) viewerShow(entry).catch((error) => showError(error.message));
}

function onKeyUp(event) {
  if (!state.me.settings.hold_to_reveal || !(event.key === " " || event.key.toLowerCase() === "r")) return;
  if ($("viewer").open) viewerHide(); else releaseReveal();
}

// Tab and shift-Tab go round the dialog's own controls, never out of it.
function trapFocus(event, dialog) {
  const stops = [...dialog.querySelectorAll("button, input, select, textarea, a[href], [tabindex='0'], video[controls]")]
    .filter((node) => !node.disabled && !node.closest("[hidden]"));
  if (!stops.length) return;
  const first = stops[0], last = stops[stops.length - 1];
  if (event.shiftKey && document.activeElement === first) { last.focus(); event.preventDefault(); }
  else if (!event.shiftKey && document.activeElement === last) { first.focus(); event.preventDefault(); }
}

function setupViewer() {
  const stage = $("viewer-stage");
  stage.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoomTo(viewer.zoom * (event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
  }, { passive: false });
  stage.addEventListener("pointerdown", (event) => {
    if (viewer.zoom === 1 || event.target.closest("video")) return;
    viewer.drag = { x: event.clientX, y: event.clientY };
    stage.setPointerCapture(event.pointerId);
  });
  stage.addEventListener("pointermove", (event) => {
    if (!viewer.drag) return;
    panBy(event.clientX - viewer.drag.x, event.clientY - viewer.drag.y);
    viewer.drag = { x: event.clientX, y: event.clientY };
  });
  for (const end of ["pointerup", "pointercancel"]) stage.addEventListener(end, () => { viewer.drag = null; });
  $("viewer-zoom-in").addEventListener("click", () => zoomTo(viewer.zoom * ZOOM_STEP));
  $("viewer-zoom-out").addEventListener("click", () => zoomTo(viewer.zoom / ZOOM_STEP));
  $("viewer-zoom-fit").addEventListener("click", () => zoomTo(1));
  const button = $("viewer-reveal");
  button.addEventListener("click", () => { if (!state.me.settings.hold_to_reveal) viewerToggle(); });
  button.addEventListener("pointerdown", () => { if (state.me.settings.hold_to_reveal) holdStart(); });
  for (const end of ["pointerup", "pointerleave", "pointercancel"]) {
    button.addEventListener(end, () => { if (state.me.settings.hold_to_reveal) viewerHide(); });
  }
  window.addEventListener("blur", () => { if (state.me.settings.hold_to_reveal) { viewerHide(); releaseReveal(); } });
  $("viewer-still").addEventListener("input", () => scrubTo(Number($("viewer-still").value)));
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  $("viewer").addEventListener("close", () => {
    viewerHide();
    viewer.entry = null;
    $("viewer-media").replaceChildren();  // nothing clear stays in the page
    $("queue").focus();
  });
  document.addEventListener("keyup", onKeyUp);
}

// --- actions: each key is resolved against the card shown when it is pressed, then sent in order ---------

const actions = { chain: Promise.resolve(), pending: 0, epoch: 0, done: [] };  // done: this session's decisions, for `z`

function enqueue(send) {
  actions.pending += 1;
  actions.epoch += 1;
  document.body.dataset.pending = String(actions.pending);  // "0" once the server's answers are all shown
  actions.chain = actions.chain.then(send).catch(showRefusal).finally(async () => {
    actions.pending -= 1;
    if (actions.pending) return;
    await loadQueue(true).catch((error) => showError(error.message));
    if (!actions.pending) document.body.dataset.pending = "0";
  });
}

// --- bulk: stacks marked with `x`, shift-click or "select all shown" ------------------------------------

function showMarks() {
  for (const node of document.querySelectorAll(".card")) {
    const marked = state.marked.has(Number(node.dataset.id));
    node.classList.toggle("marked", marked);
    node.setAttribute("aria-selected", String(marked));
  }
  $("bulk-count").textContent = tn("{n} selected", "{n} selected", state.marked.size);
}

function toggleMark() {
  const entry = selectedEntry();
  if (!entry) return;
  if (state.marked.has(entry.id)) state.marked.delete(entry.id); else state.marked.add(entry.id);
  showMarks();
}

function markRange(from, to) {
  for (let i = Math.min(from, to); i <= Math.max(from, to); i += 1) if (state.entries[i]) state.marked.add(state.entries[i].id);
  showMarks();
}

function bulk(url, body) {
  if (!mayDecide()) return;
  const items = [...state.marked];
  if (!items.length) { showError(t("select stacks first (x, shift-click or \"select all shown\")")); return; }
  // Each stack on the version its card showed: a colleague's decision since is refused, not overwritten.
  const versions = Object.fromEntries(state.entries.filter((e) => state.marked.has(e.id)).map((e) => [e.id, e.version]));
  state.marked = new Set();
  showMarks();
  enqueue(async () => {
    const result = await call("POST", url, { ...body, items, versions });
    result.audit_seqs.forEach((seq, n) => actions.done.push({ seq, item: result.items[n] }));
    if (result.stale.length) {
      result.stale.forEach(applyConflict);
      showError(tn("{n} of the {count} stacks was decided by a colleague meanwhile and kept its decision: {which}. The others were decided.",
                   "{n} of the {count} stacks were decided by a colleague meanwhile and kept their decision: {which}. The others were decided.",
                   result.stale.length, { count: items.length, which: result.stale.map(conflictText).reduce((first, second) => t("{first}; {second}", { first, second })) }));
    }
  });
}

async function offerListCategories() {
  if (!mayDecide()) return;
  // The selected stacks, or else every stack the filter shows.
  const items = state.marked.size ? [...state.marked] : state.entries.map((e) => e.id);
  const list = $("bulk-list").value;
  if (!$("bulk-list").options.length) { showError(t("this case holds no hash list: import one with vigie hashlist import")); return; }
  if (!items.length || !list) { showError(t("nothing shown to accept list categories for")); return; }
  try {
    const plan = await call("POST", "/api/decisions/accept-list", { list, items });
    const counts = Object.entries(plan.categories).map(([code, n]) => `${n} × ${categoryLabel(code)}`).join(", ");
    const values = { count: items.length, list };
    const taken = state.marked.size ? tn("{n} of the {count} selected stacks takes its category from list {list}",
                                         "{n} of the {count} selected stacks take their category from list {list}", plan.stacks, values)
      : tn("{n} of the {count} shown stacks takes its category from list {list}",
           "{n} of the {count} shown stacks take their category from list {list}", plan.stacks, values);
    const kept = tn("{n} already decided stays as it is", "{n} already decided stay as they are", plan.already_decided);
    const left = tn("{n} copy is left undecided:", "{n} copies are left undecided:", plan.left_count);
    $("accept-summary").textContent = [  // the colon and semicolon spaced as the language sets them
      counts ? t("{what}: {counts}", { what: taken, counts }) : taken,
      ". ", plan.left_count ? t("{first}; {second}", { first: kept, second: left }) : kept + "."].join("");
    // each reason is the server's, in this language
    $("accept-left").replaceChildren(...plan.left.map((l) => el("li", { text: t("item {id}: {why}", { id: l.item, why: l.why }) })));
    // Categories of another scheme are never decided under this case's: say what would let them be accepted.
    const schemeName = (code) => state.me.schemes.find((s) => s.code === code)?.label ?? code;
    $("accept-scheme").hidden = !plan.other_schemes.length;
    $("accept-scheme").textContent = t("The list gives categories of the {schemes} scheme, and this case is reviewed under {scheme}: an admin can change the case's scheme in Settings (\"Category scheme of this case\"), then accept them.",
                                       { schemes: plan.other_schemes.map(schemeName).join(", "), scheme: schemeName(state.me.scheme) });
    $("accept-go").disabled = !plan.stacks;
    $("accept-go").onclick = () => {
      $("accept-dialog").close();
      state.marked = new Set(items);
      bulk("/api/decisions/accept-list", { list, confirm: true });
    };
    $("accept-dialog").showModal();
    if (plan.stacks) $("accept-go").focus();  // Enter accepts, Escape cancels
  } catch (error) { showError(error.message); }
}

function showError(message) {
  $("error-text").textContent = t("Not done: {why}", { why: message });
  $("error").hidden = false;
}

// --- conflicts: decisions carry the version of the stack they were made on ------------------------------

function conflictText(conflict) {
  const path = state.entries.find((e) => e.id === conflict.item)?.path ?? t("item {id}", { id: conflict.item });
  return conflict.decision
    ? t("{path} was decided by {who} as {decision} a moment ago", { path, who: conflict.by, decision: decisionText(conflict.decision) })
    : t("{path} was set back to undecided by {who} a moment ago", { path, who: conflict.by });
}

// The card shows the colleague's decision (and its version, so a key pressed on it now is not stale).
function applyConflict(conflict) {
  const entry = state.entries.find((e) => e.id === conflict.item);
  if (!entry) return;
  entry.decision = conflict.decision;
  entry.version = conflict.version;
  entry.changed = { by: conflict.by };
  cardNode(entry.id)?.replaceWith(card(entry, state.entries.indexOf(entry)));
}

function showRefusal(error) {
  if (!error.conflict) { showError(error.message); return; }
  if (error.entry && !state.entries.includes(error.entry)) {  // a card taken off at the key press comes back
    state.entries.splice(state.selected, 0, error.entry);
    renderQueue();
    select(state.selected);
  }
  applyConflict(error.conflict);
  state.keep = error.conflict.item;  // the refreshed card stays in view, even under the "undecided" filter
  showError(t("{conflict}; your decision was not recorded.", { conflict: conflictText(error.conflict) }));
  document.body.dataset.conflict = String(error.conflict.item);
}

// The version a queued action is decided on: the card's when its key was pressed, or, behind this session's
// own action on the same stack still on its way, the version that one makes.
const own = new Map();  // card id (or "item:" and a copy's id, decided alone) -> the latest queued action on it
function ticket(entry, key = entry.id) {
  const prior = own.get(key);
  const next = { prior: prior && !prior.settled ? prior : null, entry, card: key === entry.id, version: entry.version,
                 seq: null, settled: false };
  own.set(key, next);
  return next;
}

function seenBy(t) { return t.prior ? (t.prior.seq ?? seenBy(t.prior)) : t.version; }

function send(url, body, on = null) {
  const path = state.entries.find((e) => e.id === body.item)?.path ?? t("item {id}", { id: body.item });
  enqueue(async () => {
    try {
      const result = await call("POST", url, on ? { ...body, seen: seenBy(on) } : body);
      actions.done.push({ seq: result.audit_seq, item: body.item });
      if (on) { on.seq = result.audit_seq; on.entry.version = result.audit_seq; }
    } catch (error) {
      if (error.conflict) { error.entry = on?.card ? on.entry : null; throw error; }
      throw new Error(`${path}: ${error.message}`);  // say which card was refused
    } finally { if (on) on.settled = true; }
  });
}

// --- claims: "next 50 for me", hidden from colleagues' queues until released or lapsed -------------------

async function claimStacks(url, body) {
  try {
    const result = await call("POST", url, body);
    $("claim-status").textContent = result.until && !result.items.length
      ? t("Nothing to claim: every undecided stack is claimed already.")
      : result.until
      ? tn("{n} stack claimed for you until {time} UTC", "{n} stacks claimed for you until {time} UTC", result.items.length, { time: result.until.slice(11, 16) })
      : tn("{n} stack released", "{n} stacks released", result.items.length);
    $("f-claims").value = result.until && result.items.length ? "mine" : "";
    live.mine = result.until && result.items.length ? result.until : null;
    await loadQueue();
  } catch (error) { showError(error.message); }
}

const CLAIM_COUNT = 50;  // "Claim next 50"
function claimNext() { if (mayDecide()) claimStacks("/api/claims", { count: CLAIM_COUNT }); }
function releaseClaims() { if (mayDecide()) claimStacks("/api/claims/release", {}); }

// Whose claim holds the stack, and until when (UTC); null when no one's, or the claim has lapsed.
function claimText(entry) {
  if (!entry.claim || Date.parse(entry.claim.until) <= Date.now()) return null;
  const until = entry.claim.until.slice(11, 16);
  return entry.claim.by === state.me.user ? t("claimed by you until {time} UTC", { time: until })
    : t("claimed by {user} until {time} UTC", { user: entry.claim.by, time: until });
}

// A colleague's claim (or release) marks the cards it names at once; the next load of the queue leaves out
// the undecided stacks a colleague holds.
function showClaim(change) {
  for (const id of change.items) {
    const entry = state.entries.find((e) => e.id === id);
    if (!entry) continue;
    if (change.action === "claim") entry.claim = { by: change.actor, until: change.until };
    else if (entry.claim?.by === change.actor) entry.claim = null;
    cardNode(id)?.replaceWith(card(entry, state.entries.indexOf(entry)));
  }
}

// --- live: colleagues' decisions and claims appear on the cards within seconds ---------------------------

const LIVE_EVERY_MS = 2000;
// lapse: when the next claim lapses (the server's clock); mine: until when this reviewer's own claim holds
const live = { since: null, busy: false, lapse: null, mine: null };

// A claim lapsing may be this reviewer's own: when no stack is held for them any more, the line that says
// "claimed for you until …" says so, and the "claimed by me" filter (which would show nothing) is dropped.
async function checkMyClaim() {
  const held = await call("GET", "/api/queue?claims=mine&limit=1");
  if (held.total) return;
  live.mine = null;
  $("claim-status").textContent = t("No stack is claimed for you now: your claim lapsed, or its stacks are decided.");
  if ($("f-claims").value === "mine") $("f-claims").value = "";
}

async function pollChanges() {
  if (live.busy) return;
  live.busy = true;
  try {
    const data = await call("GET", live.since === null ? "/api/changes" : `/api/changes?since=${live.since}`);
    live.since = data.next;
    // A claim lapses with no audit entry: the server's next lapse moving later (or none left) says the one it
    // gave before has come, and its stacks are everyone's (times in one ISO form compare as text).
    const lapsed = live.lapse !== null && (data.next_lapse === null || data.next_lapse > live.lapse);
    live.lapse = data.next_lapse;
    if (data.progress) { state.progress = data.progress; showProgress(data.progress); }  // colleagues' decisions count
    for (const change of data.changes) {
      if (change.actor === state.me.user) continue;  // this reviewer's own decisions are on the cards already
      if (change.action === "claim" || change.action === "release") { showClaim(change); continue; }
      for (const id of change.items) {
        const entry = state.entries.find((e) => e.id === id);
        const now = data.items[String(id)];
        if (!entry || !now || now.version <= entry.version) continue;
        entry.decision = now.decision;
        entry.version = now.version;
        entry.changed = { by: change.actor };
        cardNode(id)?.replaceWith(card(entry, state.entries.indexOf(entry)));
        if (entry === selectedEntry()) showDetail();
      }
    }
    // Stacks a colleague let go of, or whose claim lapsed, were left out of this queue: bring them in (the
    // selected card stays), and take the lapsed claims' marks off the cards
    if (lapsed && live.mine) await checkMyClaim();
    const freed = lapsed || data.changes.some((c) => c.action === "release" && c.actor !== state.me.user);
    if (freed && !actions.pending) await loadQueue(true);
  } catch (error) {
    // the next poll tries again; a logged-out session has been sent to the login page by `call`
  } finally { live.busy = false; }
}

function mayDecide() {
  if (!state.me.can_decide) showError(t("this account is read-only: it cannot decide"));
  return state.me.can_decide;
}

function undoLast() {
  if (!mayDecide()) return;
  enqueue(async () => {
    const last = actions.done.pop();
    if (!last) throw new Error(t("nothing decided in this session to undo"));
    await call("POST", "/api/decisions/undo", { audit_seq: last.seq });
    state.focusId = last.item;
    state.keep = last.item;
  });
}

function undecideSelected() {
  const entry = selectedEntry();
  if (!entry || !mayDecide()) return;
  send("/api/decisions/undecide", { item: entry.id, scope: "stack" }, ticket(entry));
  entry.decision = null;
  entry.changed = null;
  state.keep = entry.id;
  cardNode(entry.id)?.replaceWith(card(entry, state.selected));
}

function decide(change, scope = "stack", member = null) {
  const entry = selectedEntry();
  if (!entry || !mayDecide()) return;
  const current = (member ? member.decision : entry.decision) || { category: null, ai_tags: [] };
  const body = { item: member ? member.id : entry.id, scope, category: current.category, ai_tags: [...current.ai_tags] };
  if (current.industry_class) body.industry_class = current.industry_class;
  if ("category" in change) body.category = change.category;
  if ("tag" in change) {
    body.ai_tags = body.ai_tags.includes(change.tag) ? body.ai_tags.filter((t) => t !== change.tag) : [...body.ai_tags, change.tag];
  }
  if ("industry_class" in change) body.industry_class = change.industry_class;
  const undecided = body.category === null && !body.ai_tags.length;  // the last tag taken off
  // A stack is checked against its card's version, a copy decided alone from the item panel against its own.
  send(undecided ? "/api/decisions/undecide" : "/api/decisions", undecided ? { item: body.item, scope } : body,
       member ? ticket(member, `item:${member.id}`) : ticket(entry));
  if (scope !== "stack") return;
  // Show the result at once, so the next key acts on the next card whatever the server's pace.
  entry.decision = undecided ? null : { scheme: state.me.scheme, category: body.category, ai_tags: body.ai_tags,
                                        industry_class: body.industry_class ?? null, by: state.me.user };
  entry.changed = null;
  const node = cardNode(entry.id);
  if (!("category" in change)) {  // a tag stays on its card: a second press takes it off again
    state.keep = entry.id;
    node?.replaceWith(card(entry, state.selected));
    return;
  }
  if ($("f-status").value === "undecided") {
    state.entries.splice(state.selected, 1);
    node?.remove();
    if (!state.entries.length) renderQueue();
    else select(Math.min(state.selected, state.entries.length - 1));
  } else {
    node?.replaceWith(card(entry, state.selected));
    select(state.selected + 1);
  }
}

// A face's crop, blurred as thumbnails are; clear only while its item is revealed (the item's audited reveal).
function faceCrop(face, who, ofSelected = true) {
  const image = el("img", { class: ofSelected ? "face-crop" : "person-face", "data-face": String(face.id), alt: t("face of {who}", { who }) });
  image.src = faceUrl(face.id, ofSelected && itemRevealed(selectedEntry()?.id));
  image.addEventListener("error", () => image.replaceWith(el("span", { class: "muted", text: t("no crop (removed or unreadable)") })));
  return image;
}

function faceUrl(faceId, clear) {
  const s = state.me.settings;
  return clear ? `${ROOT}/media/faces/${faceId}/full` : `${ROOT}/media/faces/${faceId}/thumb?view=${s.blur}-${s.greyscale ? "grey" : "colour"}`;
}

function itemRevealed(id) {
  return id !== undefined && (state.revealedId === id || (viewer.revealed !== null && viewer.entry?.id === id));
}

function showFaceCrops() {
  const clear = itemRevealed(selectedEntry()?.id);
  for (const image of document.querySelectorAll("#faces img.face-crop")) image.src = faceUrl(image.dataset.face, clear);
}

// A file's times as the file system records them (ctime: the metadata's change, or the creation where it keeps that).
function timeNames() { return { mtime: t("modified"), ctime: t("changed or created"), atime: t("accessed") }; }

// What the scan kept of an image's EXIF (signals/image.py exif_summary), by name.
function exifNames() {
  return { make: t("camera make"), model: t("camera model"), software: t("software"), capture_time: t("taken at"),
           gps_present: t("GPS data"), gps_latitude: t("latitude"), gps_longitude: t("longitude") };
}

function row(label, value) { return el("tr", {}, el("th", { text: label }), el("td", { class: "mono", text: value ?? "—" })); }

async function showDetail() {
  const panel = $("detail");
  const entry = selectedEntry();
  if (!entry) { panel.replaceChildren(el("p", { class: "muted", text: t("Nothing selected.") })); return; }
  const item = await call("GET", `/api/items/${entry.id}`);
  if (selectedEntry()?.id !== entry.id) return;
  const parts = [el("h2", { class: "mono", text: item.path })];
  if (item.deleted) parts.push(el("p", { id: "deleted", class: "badge", text: t("read from the disk image as a deleted file") }));
  const large = el("button", { type: "button", id: "open-viewer", text: t("Large view (o)") });
  large.addEventListener("click", () => openViewer().catch((error) => showError(error.message)));
  parts.push(large);
  parts.push(el("p", {}, el("b", { text: t("Decision:") + " " }), decisionText(item.decision) || t("none yet")));
  if (item.decision && state.me.can_decide) {
    const back = el("button", { type: "button", id: "undecide", text: t("Set back to undecided") });
    back.addEventListener("click", undecideSelected);
    parts.push(back);
  }
  const decisions = item.history.filter((h) => ["categorise", "undecide", "undo"].includes(h.action));
  parts.push(el("h3", { text: t("Decisions ({n})", { n: decisions.length }) }), el("table", { id: "decisions" }, ...decisions.map((h) => el("tr", {},
    el("td", { text: h.at.slice(0, 19).replace("T", " ") }), el("td", { text: h.actor }), el("td", { text: decisionChange(h) })))));
  parts.push(el("h3", { text: t("Hashes") }), el("table", {}, ...Object.entries(item.hashes).map(([k, v]) => row(item.hash_names[k] ?? k, v)),
    row(t("type"), item.media_type), row(t("size"), item.size), row(t("pixels"), item.width ? `${item.width}×${item.height}` : null)));
  parts.push(el("h3", { text: t("Matches ({n})", { n: item.matches.length }) }));
  if (item.matches.length) parts.push(el("table", { id: "matches" }, ...item.matches.map((m) => el("tr", {},
    el("td", { text: m.list }), el("td", { text: [m.label, m.series && t("series {series}", { series: m.series })].filter(Boolean).join(" · ") || "—" }),
    el("td", { text: t("{signal}, distance {distance}", { signal: m.signal, distance: m.distance }) + (m.variant && m.variant !== "original" ? ` (${m.variant_label})` : "") }),
    el("td", { text: m.video_time ? t("at {time} in the video", { time: m.video_time }) : m.image_frame ? t("on {frame}", { frame: m.image_frame }) : "" }),
    el("td", { text: m.category === null ? t("no category") : m.category_label && m.category_label !== m.category ? `${m.category} — ${m.category_label}` : m.category })))));
  parts.push(el("h3", { text: t("File times") }), el("table", { id: "file-times" },
    ...Object.entries(timeNames()).filter(([k]) => k in item.times).map(([k, name]) => row(name, item.times[k]))));
  if (typeof item.exif.gps_latitude === "number" && typeof item.exif.gps_longitude === "number") {
    const where = `${item.exif.gps_latitude.toFixed(6)}, ${item.exif.gps_longitude.toFixed(6)}`;
    // Only a link the reviewer may choose to follow: nothing is fetched from a map service on its own.
    const map = el("a", { href: `https://www.openstreetmap.org/?mlat=${item.exif.gps_latitude}&mlon=${item.exif.gps_longitude}`,
                          rel: "noopener noreferrer", target: "_blank", text: t("open in OpenStreetMap") });
    parts.push(el("p", { id: "gps" }, el("b", { text: t("GPS:") + " " }), el("span", { class: "mono", text: where }), " ", map));
  }
  if (item.ai) {
    parts.push(el("h3", { text: t("AI: {verdict}", { verdict: word(item.ai.verdict) }) }));
    parts.push(el("table", {}, ...item.ai.signals.map((s) => el("tr", {}, el("td", { text: word(s.strength) }), el("td", { text: t("{label}: {value}", { label: s.kind_label, value: s.detail }), title: s.kind })))));
    const d = item.ai.detector;
    const score = d && d.score === null ? t("none (not scored)") : d?.score.toFixed(2);
    if (d) parts.push(el("p", { text: t("Detector score {score} · threshold {threshold} (higher: more likely generated; below it says nothing) · {model}",
      { score, threshold: d.threshold.toFixed(2), model: d.model }) }));
  }
  if (item.analysed_as !== null) {
    parts.push(el("p", { class: "muted", text: t("Findings copied from {path} (item {id}; same SHA-256, analysed once)",
      { path: item.analysed_as.path, id: item.analysed_as.id }) }));
  }
  parts.push(el("h3", { text: t("Faces ({n})", { n: item.faces.length }) }));
  const faces = el("div", { id: "faces", class: "faces" });
  for (const face of item.faces) {
    const who = face.person ? personName(face.person, face.person_name) : t("no person group");
    const link = el("button", { type: "button", text: who, ...(face.person ? { "aria-label": t("{who}: show this person's items", { who }) } : {}) });
    if (face.person) link.addEventListener("click", () => { $("f-person").value = String(face.person); $("f-status").value = "all"; loadQueue(); });
    else link.disabled = true;
    faces.append(el("figure", { class: "face" }, faceCrop(face, who), el("figcaption", {}, link,
      el("div", { class: "muted", text: t("{width}×{height} px at ({x}, {y})", { x: face.box[0], y: face.box[1], width: face.box[2], height: face.box[3] }) }),
      face.person && state.me.can_decide ? personActions(face, who) : null)));
  }
  parts.push(faces);
  parts.push(el("h3", { text: item.stack_size > item.stack.length
    ? t("Stack ({n} copies, first {listed} listed)", { n: item.stack_size, listed: item.stack.length })
    : tn("Stack ({n} copy)", "Stack ({n} copies)", item.stack_size) }));
  const stackTable = el("table", { id: "stack" });
  for (const member of item.stack) {
    const choose = el("select", { "aria-label": t("category of this copy only") }, el("option", { value: "", text: t("set this copy only…") }),
      ...state.me.categories.map((c) => el("option", { value: c.code, text: c.label })));
    choose.disabled = !state.me.can_decide;
    onChosen(choose, () => { if (choose.value) decide({ category: choose.value }, "item", member); });
    stackTable.append(el("tr", {}, el("td", { class: "mono", text: member.path }), el("td", { text: decisionText(member.decision) || "—" }), el("td", {}, choose)));
  }
  parts.push(stackTable);
  parts.push(el("h3", { text: t("Same content found at") }), el("ul", {}, ...item.same_content.map((p) => el("li", { class: "mono", text: p.path }))));
  const industry = el("select", { "aria-label": t("industry classification") }, el("option", { value: "", text: t("industry classification…") }),
    ...state.me.industry_classes.map((c) => el("option", { value: c, text: c })));
  industry.value = item.decision?.industry_class || "";
  industry.disabled = !state.me.can_decide || !item.decision;
  onChosen(industry, () => { if (industry.value !== (item.decision?.industry_class || "")) decide({ industry_class: industry.value || null }); });
  parts.push(el("h3", { text: "CyberTipline" }), industry);
  const exifKeys = [...Object.keys(exifNames()), ...Object.keys(item.exif)].filter((k, n, all) => k in item.exif && all.indexOf(k) === n);
  parts.push(el("h3", { text: "EXIF" }), el("table", { id: "exif" }, ...exifKeys.map((k) => row(exifNames()[k] ?? k,
    typeof item.exif[k] === "string" ? item.exif[k] : typeof item.exif[k] === "boolean" ? (item.exif[k] ? t("yes") : t("no")) : JSON.stringify(item.exif[k])))));
  parts.push(el("h3", { text: t("Notes ({n})", { n: item.notes.length }) }), ...item.notes.map((n) => el("p", {}, el("b", { text: `${n.author} ` }), el("span", { class: "muted", text: n.at }), el("br"), n.text)));
  if (state.me.can_decide) {
    const text = el("textarea", { id: "note-text", maxlength: "4000", placeholder: t("Add a note"), "aria-label": t("Note") });
    const save = el("button", { type: "button", id: "note-save", text: t("Save note") });
    save.addEventListener("click", async () => { if (text.value.trim()) { await call("POST", `/api/items/${entry.id}/notes`, { text: text.value }); showDetail(); } });
    parts.push(text, save);
  }
  parts.push(el("h3", { text: t("History") }), el("table", { id: "history" }, ...item.history.map((h) => el("tr", {},
    el("td", { text: `#${h.seq}` }), el("td", { text: h.at.slice(0, 19) }), el("td", { text: h.actor }), actionCell(h),
    fieldsCell(h.fields)))));
  // Reveals and exports past the latest few are counted, not listed: any account can make thousands.
  parts.push(...item.history_left_out.map((left) => el("p", { class: "muted history-left-out", text:
    tn("{n} earlier entry ({what}) is not listed here; the Audit log lists every entry.",
       "{n} earlier entries ({what}) are not listed here; the Audit log lists every entry.", left.count, { what: left.what }) })));
  if (item.errors.length) parts.push(el("h3", { text: t("Errors") }), ...item.errors.map((e) => el("p", { class: "error", text: t("{label}: {value}", { label: e.stage_label, value: e.message }), title: e.stage })));
  panel.replaceChildren(...parts);
}

function keyList() {
  const keys = [["j / →", t("next")], ["k / ←", t("previous")], ["↓ / ↑", t("one row down / up")],
                [t("space") + " / r", state.me.settings.hold_to_reveal ? t("reveal while held") : t("reveal or hide")],
                [t("o / Enter"), t("large view (+ − zoom, arrows pan, Esc closes)")], ["/", t("search")],
                [t("Esc"), t("leave the search box, hide the image")], ["z", t("undo my last decision")],
                [t("x / shift-click"), t("select for a bulk action")],
                ["a", t("accept the list's categories…")],
                ["c", t("claim the next 50")], ["u", t("release my claims")], ["?", t("this list of keys")]];
  for (const c of state.me.categories) keys.push([c.key, c.label]);
  for (const tag of state.me.ai_tags) keys.push([tag.key, t("tag {tag} (again to remove)", { tag: tag.label })]);
  return keys;
}

function viewerKeyList() {
  const decide = state.me.categories.map((c) => c.key).join(" ");
  return [[t("+ / −, wheel"), t("zoom in / out")], ["f", t("fit to the window")],
          [t("arrows, drag"), t("pan when zoomed; ← → step through a video's stills")],
          [t("space") + " / r", state.me.settings.hold_to_reveal ? t("reveal while held") : t("reveal or hide")],
          [decide, t("decide the item shown (its whole stack), then show the next")],
          [state.me.ai_tags.map((tag) => tag.key).join(" "), t("tag the item shown (again to remove)")],
          ["j / k", t("next / previous item")], ["z", t("undo my last decision")], ["?", t("this list of keys")],
          [t("Esc"), t("close the large view")]];
}

// The legend's height, for the page to keep its content clear of it (console.css, --keys-height).
function fitKeys() { document.documentElement.style.setProperty("--keys-height", `${$("keys").offsetHeight}px`); }

// One line by default (the `?` list and the button beside it show every key): the keys a reviewer presses most,
// the categories and tags, come first after `?`; the reviewer's choice to see them all is kept in this browser.
const KEYS_OPEN = "vigie.keys.open";
function showAllKeys(open) {
  $("keys").classList.toggle("open", open);
  $("keys-more").setAttribute("aria-expanded", String(open));
  $("keys-more").textContent = open ? t("fewer keys") : t("all keys");
  localStorage.setItem(KEYS_OPEN, open ? "1" : "");
  fitKeys();
}

function legend() {
  const keys = keyList();
  const first = keys.filter(([key]) => key === "?" || state.me.categories.some((c) => c.key === key) || state.me.ai_tags.some((tag) => tag.key === key));
  $("keys-list").replaceChildren(...[...first, ...keys.filter((k) => !first.includes(k))].map(([key, what]) => el("span", {}, el("kbd", { text: key }), ` ${what}`)),
    el("span", { class: "muted", text: state.me.can_decide ? t("keys categorise the whole stack") : t("read-only account") }));
  $("help-keys").replaceChildren(...keys.map(([key, what]) => el("tr", {}, el("th", {}, el("kbd", { text: key })), el("td", { text: what }))));
  $("help-viewer-keys").replaceChildren(...viewerKeyList().map(([key, what]) => el("tr", {}, el("th", {}, el("kbd", { text: key })), el("td", { text: what }))));
  showAllKeys(localStorage.getItem(KEYS_OPEN) === "1");
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if ($("viewer").open) { viewerKey(event); return; }
  if (event.target.closest("input, textarea, select")) {
    // Typing goes to the field; Escape hands the keys back to the grid (and keeps the search text).
    if (event.key === "Escape" && !event.target.closest("dialog")) { event.preventDefault(); event.target.blur(); $("queue").focus(); }
    return;
  }
  if (event.target.closest("dialog")) return;
  // Space and Enter press the focused button or follow the link, as everywhere: a keyboard user's press must
  // not become a reveal of the selected card.
  if ((event.key === " " || event.key === "Enter") && event.target.closest("button, a[href]")) return;
  const key = event.key.toLowerCase();
  const category = state.me.categories.find((c) => c.key === key);
  const tag = state.me.ai_tags.find((t) => t.key === key);
  if (key === "j" || key === "arrowright") next().catch((error) => showError(error.message));
  else if (key === "k" || key === "arrowleft") select(state.selected - 1);
  else if (key === "arrowdown" || key === "arrowup") moveRows(key === "arrowdown" ? 1 : -1).catch((error) => showError(error.message));
  else if (key === " " || key === "r") { if (!state.me.settings.hold_to_reveal) toggleReveal(); else if (!event.repeat) holdReveal(); }
  else if (key === "o" || key === "enter") openViewer().catch((error) => showError(error.message));
  else if (key === "escape") { hideReveal(); $("error").hidden = true; $("queue").focus(); }  // from a button too
  else if (key === "/") $("f-q").focus();
  else if (key === "?") $("help-dialog").showModal();
  else if (key === "z") undoLast();
  else if (key === "x") toggleMark();
  else if (key === "a") offerListCategories();
  else if (key === "c") claimNext();
  else if (key === "u") releaseClaims();
  else if (category) decide({ category: category.code });
  else if (tag) decide({ tag: tag.code });
  else return;
  event.preventDefault();
}

function auditRow(e) {
  return el("tr", {}, el("td", { text: String(e.seq) }), el("td", { text: e.at.slice(0, 19) }),
    el("td", { text: e.actor }), actionCell(e), fieldsCell(e.fields));
}

async function showAuditPage(after) {
  const data = await call("GET", `/api/audit?limit=100${after ? `&after=${after}` : ""}`);
  $("audit-check").textContent = data.check.ok
    ? tn("Hash chain intact: {n} entry, head {head}", "Hash chain intact: {n} entries, head {head}", data.check.entries, { head: data.check.head })
    : t("Hash chain BROKEN: {problems}", { problems: data.check.problems.join("; ") });
  if (!after) $("audit-table").replaceChildren(el("tr", {}, ...["#", t("at"), t("who"), t("action"), t("details")].map((h) => el("th", { text: h }))));
  $("audit-table").append(...data.entries.map(auditRow));
  $("audit-more").hidden = data.next === null;
  $("audit-more").dataset.after = data.next === null ? "" : String(data.next);
}

async function openAudit() {
  await showAuditPage(null);
  $("audit-dialog").showModal();
  $("audit-dialog").scrollTop = 0;  // the newest entries, not the Close button its focus scrolled to
}

// A select whose choice decides at once. Picked with the mouse, it acts on change; from the keyboard, the arrows only
// move through the options (Chromium changes a closed select's value with each) and Enter acts, so an option passed
// over on the way is never decided with. Left without Enter, it shows its value from before again.
function onChosen(select, act) {
  let arrowed = false, before = select.value;
  select.addEventListener("focus", () => { arrowed = false; before = select.value; });
  select.addEventListener("pointerdown", () => { arrowed = false; });
  select.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); arrowed = false; act(); before = select.value; }
    // Alt+arrow and space open the list instead: a choice made there comes as a change, and acts
    else if (!event.altKey && (event.key.startsWith("Arrow") || ["Home", "End", "PageUp", "PageDown"].includes(event.key)
             || (event.key.length === 1 && event.key !== " "))) arrowed = true;
  });
  select.addEventListener("change", () => { if (!arrowed) { act(); before = select.value; } });
  select.addEventListener("blur", () => { if (arrowed) select.value = before; arrowed = false; });
}

function fillSelect(id, options) {
  const select = $(id);
  for (const [value, label] of options) select.append(el("option", { value: String(value), text: label }));
}

async function setup() {
  state.me = await call("GET", "/api/me");
  $("revealed").textContent = t("revealed: {n}", { n: state.me.revealed });
  const filters = await call("GET", "/api/filters");
  fillSelect("f-priority", filters.priorities.map((p) => [p, word(p)]));
  fillSelect("f-list", filters.lists.map((l) => [l, t("list {name}", { name: l })]));
  fillSelect("f-category", state.me.categories.map((c) => [c.code, c.label]));
  fillSelect("f-ai", state.me.ai_verdicts.map((v) => [v, word(v)]));
  state.persons = filters.persons;
  fillSelect("f-person", filters.persons.map((p) => [p.id, `${personName(p.id, p.name)} (${p.items})`]));
  fillSelect("f-folder", filters.folders.map((f) => [f, f]));
  for (const id of ["f-status", "f-priority", "f-list", "f-category", "f-ai", "f-person", "f-media", "f-deleted", "f-folder", "f-min-score", "f-sort", "f-claims"]) $(id).addEventListener("change", () => loadQueue());
  let timer = null;
  $("f-q").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => loadQueue(), 300); });
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", fitKeys);
  setupViewer();
  $("error-close").addEventListener("click", () => { $("error").hidden = true; });
  $("open-help").addEventListener("click", () => $("help-dialog").showModal());
  $("keys-more").addEventListener("click", () => showAllKeys(!$("keys").classList.contains("open")));
  $("bulk").hidden = !state.me.can_decide;
  $("claims").hidden = !state.me.can_decide;
  $("claim").addEventListener("click", claimNext);
  $("release").addEventListener("click", releaseClaims);
  fillSelect("bulk-category", state.me.categories.map((c) => [c.code, c.label]));
  fillSelect("bulk-tag", state.me.ai_tags.map((t) => [t.code, t.label]));
  fillSelect("bulk-list", filters.lists.map((l) => [l, t("list {name}", { name: l })]));
  $("bulk-list").hidden = $("accept-list").hidden = !filters.lists.length;  // a case with no hash list: nothing to accept
  fillSelect("export-format", state.me.export_formats.map((f) => [f.name, f.label]));
  fillSelect("s-scheme", state.me.schemes.map((s) => [s.code, s.label]));
  fillSelect("u-role", state.me.roles.map((r) => [r, word(r)]));
  $("u-role").value = state.me.new_account_role;
  $("f-list").addEventListener("change", () => { if (filters.lists.includes($("f-list").value)) $("bulk-list").value = $("f-list").value; });
  $("select-all").addEventListener("click", () => markRange(0, state.entries.length - 1));
  $("select-none").addEventListener("click", () => { state.marked = new Set(); showMarks(); });
  onChosen($("bulk-category"), () => {
    const category = $("bulk-category").value;
    $("bulk-category").value = "";
    if (category) bulk("/api/decisions/bulk", { category });
  });
  onChosen($("bulk-tag"), () => {
    const tag = $("bulk-tag").value;
    $("bulk-tag").value = "";
    if (tag) bulk("/api/decisions/bulk", { tag });
  });
  $("accept-list").addEventListener("click", offerListCategories);
  $("accept-dialog").addEventListener("close", () => $("queue").focus());  // the keys are the grid's again
  $("open-audit").addEventListener("click", openAudit);
  $("audit-more").addEventListener("click", () => showAuditPage($("audit-more").dataset.after));
  $("open-export").addEventListener("click", () => $("export-dialog").showModal());
  $("export-form").addEventListener("submit", exportDownload);
  $("open-settings").addEventListener("click", () => {
    $("s-blur").value = state.me.settings.blur; $("s-grey").checked = state.me.settings.greyscale;
    $("s-hold").checked = state.me.settings.hold_to_reveal;
    $("s-language").value = state.me.language_choice;
    $("admin-settings").hidden = !state.me.can_administer; $("s-scheme").value = state.me.scheme;
    $("settings-dialog").showModal();
  });
  const viewSettings = () => ({ blur: Number($("s-blur").value), greyscale: $("s-grey").checked });
  $("s-save").addEventListener("click", async () => {
    await call("POST", "/api/settings", { ...viewSettings(), hold_to_reveal: $("s-hold").checked, language: $("s-language").value });
    const shown = state.me.language;
    await reloadMe();
    if (state.me.language !== shown) window.location.reload();  // the page's words come with the page
  });
  $("s-org").addEventListener("click", async () => { await call("POST", "/api/admin/settings", viewSettings()); await reloadMe(); });
  $("s-scheme-save").addEventListener("click", async () => {
    const custom = $("s-custom").value.split(",").map((s) => s.trim()).filter(Boolean);
    await call("POST", "/api/admin/settings", { scheme: $("s-scheme").value, custom_categories: custom.length ? custom : null });
    await reloadMe();
  });
  $("u-create").addEventListener("click", async () => {
    try {
      const made = await call("POST", "/api/admin/users", { username: $("u-name").value, role: $("u-role").value });
      $("u-result").textContent = t("Created {name} ({role}); one-time password: {password}", { name: made.username, role: word(made.role), password: made.password });
    } catch (error) { $("u-result").textContent = t("Not done: {why}", { why: error.message }); }
  });
  $("u-disable").addEventListener("click", async () => {
    try {
      const done = await call("POST", "/api/admin/users/disable", { username: $("u-disable-name").value });
      $("u-disable-result").textContent = t("Disabled {user}; its sessions have ended.", { user: done.username });
    } catch (error) { $("u-disable-result").textContent = t("Not done: {why}", { why: error.message }); }
  });
  $("density").addEventListener("change", async () => {
    try {
      const saved = await call("POST", "/api/settings", { density: $("density").value });
      state.me.settings = saved.settings;
      showDensity();
      document.querySelector(".card.selected")?.scrollIntoView({ block: "nearest" });
    } catch (error) { showError(error.message); }
  });
  showDensity();
  legend();
  await pollChanges();  // where the log is now: later changes are colleagues' decisions to show
  setInterval(pollChanges, LIVE_EVERY_MS);
  await loadQueue();
}

async function reloadMe() {
  state.me = await call("GET", "/api/me");
  showDensity();
  legend();
  await loadQueue(true);
}

document.addEventListener("DOMContentLoaded", () => { setup().catch((error) => { $("detail").textContent = error.message; }); });
