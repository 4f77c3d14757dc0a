// The program builder (/admin/programs): a program for one person, checked live by
// POST /v1/routine-checks, saved through the form (the session's CSRF token travels with it).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const catalogue = new Map(); // slug -> exercise summary
  let blocks = [{ name: "main", items: [] }];
  let findings = [];
  const reasons = new Map(); // "rule pointer" -> the clinician's reason
  let checkTimer = null;
  let checkSerial = 0;

  function profile() {
    const equipment = Array.from($("equipment").selectedOptions).map((option) => option.value);
    return {
      sensitivity: $("sensitivity").value,
      level: $("level").value,
      phase: $("phase").value,
      minutes: Number($("minutes").value) || 20,
      available_equipment: equipment,
      can_get_on_floor: $("can_get_on_floor").checked,
      leg_symptoms: $("leg_symptoms").checked,
      helper_available: $("helper_available").checked,
    };
  }

  function setProfile(given) {
    if (!given) return;
    for (const name of ["sensitivity", "level", "phase", "minutes"]) {
      if (given[name] !== undefined) $(name).value = given[name];
    }
    for (const name of ["can_get_on_floor", "leg_symptoms", "helper_available"]) {
      if (given[name] !== undefined) $(name).checked = Boolean(given[name]);
    }
    const equipment = new Set(given.available_equipment || []);
    for (const option of $("equipment").options) option.selected = equipment.has(option.value);
  }

  function program() {
    return {
      blocks: blocks
        .filter((block) => block.items.length)
        .map((block) => ({
          name: block.name,
          items: block.items.map((item) => {
            const dose = {};
            for (const [key, value] of Object.entries(item.dose)) {
              if (value !== null && value !== undefined && value !== "") dose[key] = value;
            }
            return { exercise: item.exercise, dose: dose };
          }),
        })),
    };
  }

  function itemCount() {
    return blocks.reduce((count, block) => count + block.items.length, 0);
  }

  function slugOf(reference) {
    return reference.split("@")[0];
  }

  function nameOf(reference) {
    const found = catalogue.get(slugOf(reference));
    return found ? found.name : reference;
  }

  function isAerobic(reference) {
    const found = catalogue.get(slugOf(reference));
    return Boolean(found && found.category === "aerobic");
  }

  function numberCell(item, key, label) {
    const cell = document.createElement("td");
    const input = document.createElement("input");
    input.type = "number";
    input.min = key === "hold_seconds" ? "0" : "1";
    input.style.width = "5rem";
    input.value = item.dose[key] ?? "";
    input.setAttribute("aria-label", `${label} of ${nameOf(item.exercise)}`);
    input.addEventListener("change", () => {
      item.dose[key] = input.value === "" ? null : Number(input.value);
      scheduleCheck();
    });
    cell.appendChild(input);
    return cell;
  }

  function renderItems() {
    const body = $("items");
    body.replaceChildren();
    blocks.forEach((block, blockIndex) => {
      block.items.forEach((item, index) => {
        const row = document.createElement("tr");
        row.dataset.pointer = `/program/blocks/${blockIndex}/items/${index}`;
        const name = document.createElement("td");
        name.textContent = `${nameOf(item.exercise)} (${block.name})`;
        row.appendChild(name);
        const aerobic = isAerobic(item.exercise);
        for (const [key, label] of [
          ["sets", "Sets"],
          ["repetitions", "Repetitions"],
          ["hold_seconds", "Hold"],
          ["minutes", "Minutes"],
        ]) {
          const isMinutes = key === "minutes";
          if (aerobic !== isMinutes) {
            row.appendChild(document.createElement("td"));
          } else {
            row.appendChild(numberCell(item, key, label));
          }
        }
        const actions = document.createElement("td");
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "secondary";
        remove.textContent = "Remove";
        remove.setAttribute("aria-label", `Remove ${nameOf(item.exercise)}`);
        remove.addEventListener("click", () => {
          block.items.splice(index, 1);
          changed();
        });
        actions.appendChild(remove);
        row.appendChild(actions);
        body.appendChild(row);
      });
    });
    $("empty-program").hidden = itemCount() > 0;
  }

  function renderFindings(message) {
    const box = $("findings");
    box.replaceChildren();
    if (message) {
      const line = document.createElement("p");
      line.className = "error";
      line.textContent = message;
      box.appendChild(line);
      return;
    }
    if (!findings.length) {
      const line = document.createElement("p");
      line.textContent = itemCount() ? "No findings: nothing breaks a rule." : "Add exercises to check.";
      box.appendChild(line);
      return;
    }
    const list = document.createElement("ul");
    for (const finding of findings) {
      const entry = document.createElement("li");
      entry.className = `finding finding-${finding.severity}`;
      const head = document.createElement("strong");
      head.textContent = `${finding.severity}: ${finding.rule}`;
      entry.appendChild(head);
      entry.appendChild(document.createTextNode(` at ${finding.pointer}: ${finding.text}`));
      if (finding.severity === "block" && finding.overridable) {
        const key = `${finding.rule} ${finding.pointer}`;
        const label = document.createElement("label");
        label.textContent = `Reason for overriding ${finding.rule} at ${finding.pointer}`;
        const input = document.createElement("input");
        input.type = "text";
        input.size = 60;
        input.value = reasons.get(key) || "";
        input.addEventListener("input", () => reasons.set(key, input.value));
        label.appendChild(input);
        entry.appendChild(label);
      }
      list.appendChild(entry);
    }
    box.appendChild(list);
  }

  async function check() {
    const serial = ++checkSerial;
    if (!itemCount()) {
      findings = [];
      renderFindings();
      return;
    }
    let response;
    try {
      response = await fetch("/v1/routine-checks", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ profile: profile(), program: program() }),
      });
    } catch (error) {
      renderFindings("The check could not be reached; try again.");
      return;
    }
    if (serial !== checkSerial) return;
    const body = await response.json();
    if (!response.ok) {
      const errors = (body.errors || []).map((item) => `${item.pointer || item.field}: ${item.message}`);
      findings = [];
      renderFindings(`${body.detail} ${errors.join("; ")}`);
      return;
    }
    findings = body.findings;
    renderFindings();
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 250);
  }

  function changed() {
    renderItems();
    scheduleCheck();
  }

  function defaultDose(exercise) {
    if (exercise.category === "aerobic") return { minutes: 10 };
    return { sets: 1, repetitions: 5 };
  }

  function addExercise(exercise) {
    const target = blocks[blocks.length - 1];
    target.items.push({ exercise: exercise.slug, dose: defaultDose(exercise) });
    changed();
  }

  async function search() {
    const query = new URLSearchParams({ limit: "100" });
    const text = $("search").value.trim();
    if (text) query.set("q", text);
    if ($("category").value) query.set("category", $("category").value);
    const sensitivity = $("sensitivity").value;
    if ($("safe-only").checked && sensitivity.endsWith("_sensitive")) query.set("safe_for", sensitivity);
    const response = await fetch(`/v1/exercises?${query}`, { headers: { Accept: "application/json" } });
    const results = $("results");
    results.replaceChildren();
    if (!response.ok) return;
    for (const exercise of (await response.json()).items) {
      const entry = document.createElement("li");
      entry.textContent = `${exercise.name} (${exercise.category}, ${exercise.level}) `;
      const add = document.createElement("button");
      add.type = "button";
      add.className = "secondary";
      add.textContent = "Add";
      add.setAttribute("aria-label", `Add ${exercise.name}`);
      add.addEventListener("click", () => addExercise(exercise));
      entry.appendChild(add);
      results.appendChild(entry);
    }
  }

  async function startGenerated() {
    const response = await fetch("/admin/programs/generated", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(profile()),
    });
    if (!response.ok) {
      renderFindings("The engine gives no routine for this profile to start from.");
      return;
    }
    blocks = (await response.json()).blocks;
    changed();
  }

  async function loadCatalogue() {
    const response = await fetch("/v1/catalogue", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    for (const exercise of (await response.json()).items) catalogue.set(exercise.slug, exercise);
  }

  function restore() {
    const initial = JSON.parse($("initial").textContent || "{}");
    setProfile(initial.profile);
    if (initial.program && Array.isArray(initial.program.blocks)) blocks = initial.program.blocks;
    for (const override of initial.overrides || []) {
      reasons.set(`${override.rule} ${override.pointer}`, override.reason);
    }
  }

  function saving() {
    const overrides = findings
      .filter((finding) => finding.severity === "block" && finding.overridable)
      .map((finding) => ({
        rule: finding.rule,
        pointer: finding.pointer,
        reason: (reasons.get(`${finding.rule} ${finding.pointer}`) || "").trim(),
      }))
      .filter((override) => override.reason);
    $("request").value = JSON.stringify({ profile: profile(), program: program(), overrides: overrides });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    restore();
    await loadCatalogue();
    renderItems();
    $("start-generated").addEventListener("click", startGenerated);
    $("start-empty").addEventListener("click", () => {
      blocks = [{ name: "main", items: [] }];
      changed();
    });
    for (const id of ["search", "category", "safe-only"]) $(id).addEventListener("input", search);
    for (const element of $("profile").querySelectorAll("input, select")) {
      element.addEventListener("change", scheduleCheck);
    }
    $("save-form").addEventListener("submit", saving);
    await search();
    await check();
  });
})();
