// The stand's quick capture (campaigns/templates/campaigns/stand.html): entries are kept in
// this phone's localStorage and sent one by one whenever the connection allows; each carries
// a key made here, so an entry sent twice (a reply lost, the page reloaded) is one lead.
(function () {
  "use strict";
  const root = document.querySelector("[data-testid=stand]");
  if (!root) return;
  const storeName = root.dataset.queue;
  const sendUrl = root.dataset.send;
  const offered = JSON.parse(document.getElementById("stand-codes").textContent);
  const texts = JSON.parse(document.getElementById("stand-texts").textContent);
  const form = root.querySelector("[data-testid=stand-form]");
  const codeField = form.querySelector("#stand-code");
  const modelSelect = form.querySelector("#stand-model");
  const modelText = form.querySelector("#stand-model-text");
  const modelLabel = form.querySelector("#stand-model-label");
  const wording = form.querySelector("[data-testid=wording]");
  const errorLine = form.querySelector("[data-testid=stand-error]");
  const list = root.querySelector("[data-testid=entries]");
  const count = root.querySelector("[data-testid=queue-count]");
  const connection = root.querySelector("[data-testid=connection]");
  const csrf = document.body.getAttribute("hx-headers");
  const csrfToken = csrf ? JSON.parse(csrf)["X-CSRFToken"] : "";
  const KEEP_SENT = 20; // sent entries still listed, so the person sees them go
  let sending = false;

  function load() {
    try {
      const found = JSON.parse(localStorage.getItem(storeName) || "[]");
      return Array.isArray(found) ? found : [];
    } catch (error) {
      return [];
    }
  }

  function save(entries) {
    const sent = entries.filter((e) => e.state === "sent");
    const keep = entries.filter((e) => e.state !== "sent" || sent.indexOf(e) >= sent.length - KEEP_SENT);
    localStorage.setItem(storeName, JSON.stringify(keep));
  }

  function update(key, changes) {
    const entries = load();
    const entry = entries.find((e) => e.key === key);
    if (entry) Object.assign(entry, changes);
    save(entries);
    render();
  }

  function newKey() {
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function masked(mobile) {
    return mobile.length >= 7 ? mobile.slice(0, 3) + "****" + mobile.slice(-4) : mobile;
  }

  function render() {
    const entries = load();
    const waiting = entries.filter((e) => e.state === "queued" || e.state === "sending");
    count.textContent = String(waiting.length);
    list.replaceChildren();
    for (const entry of entries.slice().reverse()) {
      const item = document.createElement("li");
      item.className = "list-group-item d-flex align-items-center gap-2";
      item.dataset.testid = "entry";
      item.dataset.state = entry.state;
      const who = document.createElement("span");
      who.textContent = entry.name + " " + masked(entry.mobile);
      const state = document.createElement("span");
      const colour = { queued: "warning", sending: "info", sent: "success", refused: "danger" };
      state.className = "badge ms-auto text-bg-" + (colour[entry.state] || "secondary");
      state.dataset.testid = "entry-state";
      state.textContent = texts[entry.state] || entry.state;
      item.append(who, state);
      if (entry.message && entry.state === "refused") {
        const why = document.createElement("div");
        why.className = "w-100 text-danger";
        why.textContent = entry.message;
        item.classList.add("flex-wrap");
        item.append(why);
      }
      if (entry.state === "refused") {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn btn-sm btn-outline-secondary";
        remove.textContent = texts.remove;
        remove.addEventListener("click", () => {
          save(load().filter((e) => e.key !== entry.key));
          render();
        });
        item.append(remove);
      }
      list.append(item);
    }
    const online = navigator.onLine;
    connection.textContent = online ? connection.dataset.onlineText : connection.dataset.offlineText;
    connection.className = "badge ms-auto text-bg-" + (online ? "success" : "secondary");
  }

  async function sendOne(entry) {
    update(entry.key, { state: "sending" });
    let response;
    try {
      response = await fetch(sendUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        credentials: "same-origin",
        body: JSON.stringify(entry),
      });
    } catch (error) {
      update(entry.key, { state: "queued" }); // no connection: it waits
      return false;
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = {};
    }
    if (response.ok) {
      update(entry.key, { state: "sent", message: answer.message || "" });
      return true;
    }
    if (response.status === 429 || response.status >= 500 || !answer.state) {
      update(entry.key, { state: "queued" }); // try again later
      return false;
    }
    update(entry.key, { state: "refused", message: answer.message || "" });
    return true;
  }

  async function flush() {
    if (sending) return;
    sending = true;
    try {
      // An entry left "sending" by a page closed mid-way is sent again: its key makes it once.
      for (const entry of load()) {
        if (entry.state !== "queued" && entry.state !== "sending") continue;
        if (!(await sendOne(entry))) break;
      }
    } finally {
      sending = false;
    }
  }

  function chooseCode() {
    const chosen = offered.find((o) => o.code === codeField.value) || offered[0];
    wording.textContent = chosen ? chosen.wording : "";
    modelSelect.replaceChildren();
    const models = chosen ? chosen.models : [];
    // One field at a time, the label naming the one shown: a list of the campaign's models,
    // or free text when it offers none.
    modelSelect.hidden = models.length === 0;
    modelText.hidden = models.length > 0;
    modelLabel.htmlFor = models.length ? "stand-model" : "stand-model-text";
    if (models.length) {
      const none = document.createElement("option");
      none.value = "";
      none.textContent = texts.none;
      modelSelect.append(none);
      for (const model of models) {
        const option = document.createElement("option");
        option.value = model;
        option.textContent = model;
        modelSelect.append(option);
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = form.querySelector("#stand-name").value.trim();
    const mobile = form.querySelector("#stand-mobile").value.replace(/\s+/g, "");
    const problem = !name ? texts.name : !mobile ? texts.mobile : "";
    errorLine.textContent = problem;
    errorLine.classList.toggle("d-none", !problem);
    if (problem) return;
    const entries = load();
    entries.push({
      key: newKey(),
      code: codeField.value,
      name: name,
      mobile: mobile,
      car_model: modelSelect.hidden ? modelText.value.trim() : modelSelect.value,
      consent: form.querySelector("#stand-consent").checked,
      entered_at: new Date().toISOString(),
      state: "queued",
      message: "",
    });
    save(entries);
    form.querySelector("#stand-name").value = "";
    form.querySelector("#stand-mobile").value = "";
    modelText.value = "";
    modelSelect.value = "";
    form.querySelector("#stand-consent").checked = false;
    form.querySelector("#stand-name").focus();
    render();
    flush();
  });

  codeField.addEventListener("change", chooseCode);
  window.addEventListener("online", () => {
    render();
    flush();
  });
  window.addEventListener("offline", render);
  window.addEventListener("storage", (event) => {
    if (event.key === storeName) render();
  });
  setInterval(() => {
    if (navigator.onLine) flush();
  }, 15000);
  chooseCode();
  render();
  flush();
})();
