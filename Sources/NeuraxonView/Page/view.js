// The Neuraxon view: the network in 3D, the world, time plots and the link, fed by the
// server's WebSocket (Docs/VIEW.md). three.js comes from Debian's libjs-three, served by the
// server from where it is installed.
import * as THREE from "/three/build/three.module.js";
import { OrbitControls } from "/three/examples/jsm/controls/OrbitControls.js";

// What the page shows, readable by tests and by a person in the console.
const view = window.neuraxonView = {
  connected: false, scene: null, lastNeurons: null, ticksReceived: 0, lastTick: null, neuronsDrawn: 0, synapsesDrawn: 0,
  drawnPose: null, frames: 0, errors: [], infos: [], fps: 0,
  synapseUpdates: 0, synapsesTick: null, synapsesTotal: null, synapseColours: null, clamps: [], link: null,
};

const $ = (id) => document.getElementById(id);
const history = [];          // the last ticks, for the plots
const HISTORY = 600;
const path = [];             // the robot's path
let socket = null;

// ---------- connection ----------
function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws`);
  socket.onopen = () => { view.connected = true; $("status").textContent = "connected"; };
  socket.onclose = () => { view.connected = false; $("status").textContent = "disconnected"; };
  // One message may hold several JSON texts separated by U+001E (a recording's ticks and position).
  socket.onmessage = (event) => { for (const part of event.data.split("\x1e")) handle(JSON.parse(part)); };
}
function handle(m) {
  {
    if (m.type === "scene") setScene(m);
    else if (m.type === "ticks") { for (const t of m.ticks) addTick(t); if (m.stopping) $("status").textContent = "stopping"; updateLink(m); }
    else if (m.type === "position") updatePosition(m);
    else if (m.type === "synapses") updateSynapses(m);
    else if (m.type === "error") { view.errors.push(m.message); $("status").textContent = m.message; }
    else if (m.type === "info") { view.infos.push(m.message); $("status").textContent = m.message; }
  }
}
function send(message) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(message)); }

// ---------- scene ----------
let renderer, camera, scene3d, controls, neuronPoints, synapseLines, positions = [], roles = [];
let particleClouds = [];
const ROLE_COLOURS = { input: [0.25, 0.55, 1.0], hidden: [0.75, 0.75, 0.78], output: [1.0, 0.6, 0.15] };

function initThree() {
  const host = $("network");
  renderer = new THREE.WebGLRenderer({ antialias: false });
  renderer.setPixelRatio(1);
  renderer.setSize(host.clientWidth, host.clientHeight);
  host.appendChild(renderer.domElement);
  scene3d = new THREE.Scene();
  camera = new THREE.PerspectiveCamera(50, host.clientWidth / host.clientHeight, 0.1, 100);
  camera.position.set(0, 0.6, 3.2);
  controls = new OrbitControls(camera, renderer.domElement);
  renderer.domElement.addEventListener("click", pick);
}

function setScene(s) {
  view.scene = s;
  view.lastTick = null; view.lastNeurons = null; history.length = 0; path.length = 0;
  $("title").textContent = s.title;
  buildModulators(s);
  buildNetwork(s.network);
  $("timeline").hidden = s.mode !== "recording";
  $("playground").hidden = s.mode !== "playground";
  if (s.mode === "playground") buildPlayground(s);
  if (s.mode === "recording") $("seek").max = Math.max(0, (s.tick_count || 1) - 1);
  $("stop").hidden = s.mode === "recording" || s.mode === "playground";
  buildClamps(s);
}

function rolesOf(n) {
  const r = [];
  for (let i = 0; i < n.input; i++) r.push("input");
  for (let i = 0; i < n.hidden; i++) r.push("hidden");
  for (let i = 0; i < n.output; i++) r.push("output");
  return r;
}

function buildNetwork(n) {
  if (neuronPoints) { scene3d.remove(neuronPoints); scene3d.remove(synapseLines); }
  if (!n) { view.neuronsDrawn = 0; view.synapsesDrawn = 0; return; }
  roles = rolesOf(n);
  const count = roles.length;
  // A Fibonacci sphere: inputs, hidden and outputs in id order from pole to pole.
  positions = [];
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i++) {
    const y = count === 1 ? 0 : 1 - (i / (count - 1)) * 2;
    const r = Math.sqrt(Math.max(0, 1 - y * y));
    positions.push(new THREE.Vector3(Math.cos(golden * i) * r, y, Math.sin(golden * i) * r));
  }
  const g = new THREE.BufferGeometry();
  const p = new Float32Array(count * 3), c = new Float32Array(count * 3);
  positions.forEach((v, i) => { p[3 * i] = v.x; p[3 * i + 1] = v.y; p[3 * i + 2] = v.z; });
  g.setAttribute("position", new THREE.BufferAttribute(p, 3));
  g.setAttribute("color", new THREE.BufferAttribute(c, 3));
  neuronPoints = new THREE.Points(g, new THREE.PointsMaterial({ size: count > 300 ? 0.035 : 0.09, vertexColors: THREE.VertexColors }));
  scene3d.add(neuronPoints);
  colourNeurons(null);
  view.neuronsDrawn = count;
  buildSynapses(n);
}

// Synapses as curves bowed toward the sphere's centre; colour and brightness follow the chosen
// weight (red negative, green positive), silent ones dim grey, modulatory ones violet.
function buildSynapses(n) {
  if (synapseLines) scene3d.remove(synapseLines);
  const which = Number($("weight").value);
  const syn = n.synapses;
  const segments = syn.length > 5000 ? 2 : 6;
  const p = new Float32Array(syn.length * segments * 6), c = new Float32Array(syn.length * segments * 6);
  let k = 0;
  const colours = { positive: 0, negative: 0, silent: 0, modulatory: 0 };   // what was drawn, by colour
  const a = new THREE.Vector3(), b = new THREE.Vector3(), mid = new THREE.Vector3(), q = new THREE.Vector3(), prev = new THREE.Vector3();
  for (const s of syn) {
    a.copy(positions[s[0]]); b.copy(positions[s[1]]);
    mid.copy(a).add(b).multiplyScalar(0.35);
    const w = s[which], silent = s[5] === 1, modulatory = s[6] === 1;
    let col = silent ? [0.3, 0.3, 0.3] : modulatory ? [0.7, 0.4, 1.0] : w >= 0 ? [0.2, 0.9, 0.4] : [1.0, 0.3, 0.25];
    colours[silent ? "silent" : modulatory ? "modulatory" : w >= 0 ? "positive" : "negative"]++;
    const strength = silent ? 0.4 : Math.min(1, 0.25 + Math.abs(w));
    prev.copy(a);
    for (let j = 1; j <= segments; j++) {
      const t = j / segments;
      q.set(0, 0, 0).addScaledVector(a, (1 - t) * (1 - t)).addScaledVector(mid, 2 * t * (1 - t)).addScaledVector(b, t * t);
      p.set([prev.x, prev.y, prev.z, q.x, q.y, q.z], k * 6);
      for (let e = 0; e < 2; e++) c.set(col.map((x) => x * strength), k * 6 + e * 3);
      prev.copy(q);
      k++;
    }
  }
  const g = new THREE.BufferGeometry();
  g.setAttribute("position", new THREE.BufferAttribute(p, 3));
  g.setAttribute("color", new THREE.BufferAttribute(c, 3));
  synapseLines = new THREE.LineSegments(g, new THREE.LineBasicMaterial({ vertexColors: THREE.VertexColors, transparent: true, opacity: 0.55 }));
  if (neuronPoints) synapseLines.rotation.y = neuronPoints.rotation.y;
  scene3d.add(synapseLines);
  view.synapsesDrawn = syn.length;
  view.synapseColours = colours;
}

// The synapses as the run has them now (sent about once a second): plasticity changes the
// weights, structural plasticity forms and prunes synapses.
function updateSynapses(m) {
  if (!view.scene || !view.scene.network) return;
  view.scene.network.synapses = m.synapses;
  view.synapsesTick = m.tick;
  view.synapsesTotal = m.total;
  view.synapseUpdates++;
  buildSynapses(view.scene.network);
}
$("weight").addEventListener("change", () => { if (view.scene && view.scene.network) buildSynapses(view.scene.network); });

function colourNeurons(tick) {
  if (!neuronPoints) return;
  const c = neuronPoints.geometry.attributes.color;
  const states = view.lastNeurons ? view.lastNeurons.states : null;
  const inputs = tick ? tick.inputs : null, outputs = tick ? tick.outputs : null;
  const firstOutput = roles.length - (view.scene.network ? view.scene.network.output : 0);
  for (let i = 0; i < roles.length; i++) {
    let s = "0";
    if (states) s = states[i];
    else if (inputs && i < inputs.length) s = inputs[i];
    else if (outputs && i >= firstOutput) s = outputs[i - firstOutput];
    const k = s === "+" ? 1.0 : s === "-" ? 0.18 : 0.5;
    const base = ROLE_COLOURS[roles[i]];
    c.setXYZ(i, base[0] * k, base[1] * k, base[2] * k);
  }
  c.needsUpdate = true;
}

function pick(event) {
  if (!neuronPoints) return;
  const rect = renderer.domElement.getBoundingClientRect();
  const mouse = new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  const ray = new THREE.Raycaster();
  ray.params.Points.threshold = 0.05;
  ray.setFromCamera(mouse, camera);
  const hit = ray.intersectObject(neuronPoints)[0];
  if (!hit) return;
  view.picked = hit.index;
  showPicked();
}
function showPicked() {
  if (view.picked == null || !view.scene || !view.scene.network) return;
  const i = view.picked, t = view.lastNeurons;
  const syn = view.scene.network.synapses;
  const incoming = syn.filter((s) => s[1] === i).length, outgoing = syn.filter((s) => s[0] === i).length;
  const potential = t && t.potentials ? t.potentials[i].toFixed(3) : "not recorded";
  const state = t && t.states ? t.states[i] : "?";
  $("picked").textContent = `neuron ${i} (${roles[i]}): state ${state}, potential ${potential}, ${incoming} synapses in, ${outgoing} out`;
}

// ---------- neuromodulators ----------
const MOD_COLOURS = { dopamine: 0xffd54a, serotonin: 0x4ad8ff, acetylcholine: 0x9cff6b, norepinephrine: 0xff6bd5 };
function buildModulators(s) {
  const host = $("modulators");
  host.innerHTML = "";
  particleClouds.forEach((p) => scene3d.remove(p));
  particleClouds = [];
  for (const name of s.modulators) {
    const row = document.createElement("div");
    row.className = "mod";
    row.innerHTML = `<label for="mod-${name}">${name}</label><input id="mod-${name}" type="range" min="0" max="1" step="0.01" value="0"><span id="mod-${name}-level">0</span>`;
    host.appendChild(row);
    const input = row.querySelector("input");
    input.disabled = !s.controls || s.mode === "recording";
    input.title = input.disabled ? "controls that change behaviour are off for this run" : "";
    input.addEventListener("input", () => send({ type: "modulate", modulator: name, level: Number(input.value) }));
    // A cloud of particles whose visible share follows the level.
    const g = new THREE.BufferGeometry(), n = 150, p = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const v = new THREE.Vector3(Math.random() - 0.5, Math.random() - 0.5, Math.random() - 0.5).normalize().multiplyScalar(1.15 + 0.25 * Math.random());
      p.set([v.x, v.y, v.z], 3 * i);
    }
    g.setAttribute("position", new THREE.BufferAttribute(p, 3));
    g.setDrawRange(0, 0);
    const cloud = new THREE.Points(g, new THREE.PointsMaterial({ size: 0.03, color: MOD_COLOURS[name] || 0xffffff }));
    cloud.userData.count = n;
    particleClouds.push(cloud);
    scene3d.add(cloud);
  }
}
function showModulators(levels) {
  view.scene.modulators.forEach((name, i) => {
    $(`mod-${name}-level`).textContent = levels[i].toFixed(2);
    const input = $(`mod-${name}`);
    if (document.activeElement !== input) input.value = levels[i];
    const cloud = particleClouds[i];
    if (cloud) cloud.geometry.setDrawRange(0, Math.round(levels[i] * cloud.userData.count));
  });
}

// ---------- ticks ----------
function addTick(t) {
  view.ticksReceived++;
  view.lastTick = t;
  if (t.states) view.lastNeurons = t;   // every neuron's state comes at display rate, not with every tick
  history.push(t);
  if (history.length > HISTORY) history.shift();
  if (t.pose) { path.push(t.pose); if (path.length > 5000) path.shift(); }
}
function updateLink(m) {
  const t = view.lastTick;
  if (!t) return;
  const rows = Object.entries(t.counters).map(([k, v]) => `<tr><td>${k.replace(/_/g, " ")}</td><td>${v}</td></tr>`);
  if (view.lastNeurons) {
    const at = view.synapsesTick == null ? "at start" : `at tick ${view.synapsesTick}`;
    rows.push(`<tr><td>synapses now</td><td>${view.lastNeurons.synapse_count} (drawn: ${view.synapsesDrawn} ${at})</td></tr>`);
  }
  rows.push(`<tr><td>latency</td><td>${t.latency_us.toFixed(0)} µs</td></tr>`);
  if (m.view_dropped !== undefined) rows.push(`<tr><td>view dropped</td><td>${m.view_dropped}</td></tr>`);
  if (m.link) {
    // A robot's link: the board's failsafe state, PING → PONG round trip, the session's counters.
    view.link = m.link;
    const l = m.link;
    rows.push(`<tr><td>link</td><td>${l.state}</td></tr>`);
    rows.push(`<tr><td>failsafe</td><td>${l.failsafe === null ? "no STATUS yet" : l.failsafe}</td></tr>`);
    const rt = l.round_trip_ms;
    rows.push(`<tr><td>round trip</td><td>${rt.count ? `p50 ${rt.p50.toFixed(2)} ms, p99 ${rt.p99.toFixed(2)} ms (${rt.count})` : "not measured yet"}</td></tr>`);
    for (const [k, v] of Object.entries(l.counters)) rows.push(`<tr><td>${k.replace(/_/g, " ")}</td><td>${v}</td></tr>`);
  }
  $("link").innerHTML = rows.join("");
}

// ---------- world ----------
function drawWorld() {
  const canvas = $("world"), g = canvas.getContext("2d"), s = view.scene;
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (!s || !s.world) { g.fillStyle = "#666"; g.fillText("no simulated world in this run", 20, 30); return; }
  const w = s.world, scale = Math.min(canvas.width / w.width, canvas.height / w.height) * 0.96;
  const ox = (canvas.width - w.width * scale) / 2, oy = (canvas.height - w.height * scale) / 2;
  const X = (x) => ox + x * scale, Y = (y) => canvas.height - (oy + y * scale);
  view.worldTransform = { scale, ox, oy, height: canvas.height };
  g.strokeStyle = "#333"; g.lineWidth = 2; g.strokeRect(X(0), Y(w.height), w.width * scale, w.height * scale);
  g.fillStyle = "#8a8f99"; g.strokeStyle = "#555";
  for (const o of w.obstacles) {
    g.beginPath();
    if (o.kind === "segment") { g.moveTo(X(o.from[0]), Y(o.from[1])); g.lineTo(X(o.to[0]), Y(o.to[1])); g.lineWidth = 3; g.stroke(); continue; }
    if (o.kind === "circle") { g.arc(X(o.center[0]), Y(o.center[1]), o.radius * scale, 0, 2 * Math.PI); g.fill(); continue; }
    g.save(); g.translate(X(o.center[0]), Y(o.center[1])); g.rotate(-o.angle);
    g.fillRect(-o.size[0] * scale / 2, -o.size[1] * scale / 2, o.size[0] * scale, o.size[1] * scale); g.restore();
  }
  for (const l of w.lights) {
    const grad = g.createRadialGradient(X(l.x), Y(l.y), 0, X(l.x), Y(l.y), 40);
    grad.addColorStop(0, "rgba(255,200,0,0.9)"); grad.addColorStop(1, "rgba(255,200,0,0)");
    g.fillStyle = grad; g.beginPath(); g.arc(X(l.x), Y(l.y), 40, 0, 2 * Math.PI); g.fill();
  }
  if (path.length > 1) {
    g.strokeStyle = "rgba(40,90,200,0.6)"; g.lineWidth = 1.5; g.beginPath();
    g.moveTo(X(path[0][0]), Y(path[0][1]));
    for (const p of path) g.lineTo(X(p[0]), Y(p[1]));
    g.stroke();
  }
  const t = view.lastTick;
  if (!t || !t.pose) return;
  const [x, y, h] = t.pose;
  const r = w.robot;
  // Sensor rays: each range sensor's field of view up to its maximum range.
  for (const sensor of r.ranges) {
    const sx = x + sensor.x * Math.cos(h) - sensor.y * Math.sin(h), sy = y + sensor.x * Math.sin(h) + sensor.y * Math.cos(h);
    for (const d of [-sensor.fov / 2, 0, sensor.fov / 2]) {
      const a = h + sensor.angle + d;
      g.strokeStyle = "rgba(220,60,60,0.5)"; g.lineWidth = 1; g.beginPath();
      g.moveTo(X(sx), Y(sy)); g.lineTo(X(sx + sensor.max * Math.cos(a)), Y(sy + sensor.max * Math.sin(a))); g.stroke();
    }
  }
  const bumper = s.sensors.findIndex((c) => c.name.includes("bump"));
  const contact = bumper >= 0 && t.raw[bumper] > 0;
  g.fillStyle = contact ? "#e24a42" : "#2b6cd6"; g.strokeStyle = "#111"; g.lineWidth = 1.5;
  g.beginPath(); g.arc(X(x), Y(y), r.radius * scale, 0, 2 * Math.PI); g.fill(); g.stroke();
  g.beginPath(); g.moveTo(X(x), Y(y)); g.lineTo(X(x + r.radius * 1.4 * Math.cos(h)), Y(y + r.radius * 1.4 * Math.sin(h))); g.stroke();
  view.drawnPose = [x, y, h];
  view.drawnTick = t.tick;
}

// ---------- plots ----------
function drawPlots() {
  const canvas = $("plots"), g = canvas.getContext("2d"), s = view.scene;
  canvas.width = canvas.clientWidth || 1200;
  g.fillStyle = "#0c0d10"; g.fillRect(0, 0, canvas.width, canvas.height);
  if (!s || history.length < 2) return;
  const lanes = [
    { name: "sensors (raw)", series: s.sensors.map((c, i) => [(t) => t.raw[i], c.min, c.max]) },
    { name: "sensors (calibrated)", series: s.values.map((_, i) => [(t) => t.values[i], -1, 1]), autoscale: true },
    { name: "setpoints", series: s.actuators.map((c, i) => [(t) => t.setpoints[i], c.min, c.max]) },
    { name: "neuromodulators", series: s.modulators.map((_, i) => [(t) => t.modulators[i], 0, 1]) },
    { name: "loop latency (µs)", series: [[(t) => t.latency_us, 0, 1]], autoscale: true },
  ];
  const rasterRows = s.input_count + s.output_count;
  const laneH = (canvas.height - 10 - Math.min(150, rasterRows * 3)) / lanes.length;
  const n = history.length, dx = canvas.width / HISTORY;
  const palette = ["#4ad8ff", "#ffd54a", "#9cff6b", "#ff6bd5", "#ff8a4a", "#b48aff", "#ffffff", "#6bffd5"];
  lanes.forEach((lane, li) => {
    const top = li * laneH + 4;
    g.fillStyle = "#9aa3b2"; g.fillText(lane.name, 4, top + 10);
    lane.series.forEach(([f, lo, hi], si) => {
      if (lane.autoscale) {
        lo = Infinity; hi = -Infinity;
        for (const t of history) { const v = f(t); if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
        if (!(hi > lo)) { lo -= 1; hi += 1; }
      }
      g.strokeStyle = palette[si % palette.length]; g.beginPath();
      history.forEach((t, k) => {
        const v = f(t), yy = top + laneH - 4 - ((v - lo) / (hi - lo)) * (laneH - 8);
        if (k === 0) g.moveTo(k * dx, yy); else g.lineTo(k * dx, yy);
      });
      g.stroke();
    });
  });
  // The raster: input rows then output rows, + white, − red.
  const top = lanes.length * laneH + 6, rowH = Math.max(1, Math.min(3, 150 / Math.max(1, rasterRows)));
  history.forEach((t, k) => {
    const trits = t.inputs + t.outputs;
    for (let r = 0; r < trits.length; r++) {
      if (trits[r] === "0") continue;
      g.fillStyle = trits[r] === "+" ? "#ffffff" : "#ff5a4a";
      g.fillRect(k * dx, top + r * rowH, Math.max(1, dx), rowH);
    }
  });
  void n;
}

// ---------- the playground ----------
const TRIT_NEXT = { "-": 0, "0": 1, "+": -1 };
function buildPlayground(s) {
  const inputs = $("pg-inputs");
  inputs.innerHTML = "";
  for (let i = 0; i < s.input_count; i++) {
    const b = document.createElement("button");
    b.id = `pg-input-${i}`;
    b.textContent = `${i}: 0`;
    b.addEventListener("click", () => {
      const now = view.lastTick ? view.lastTick.inputs[i] : "0";
      send({ type: "input", index: i, state: TRIT_NEXT[now] });
    });
    inputs.appendChild(b);
  }
  $("pg-preset").innerHTML = s.presets.map((p) => `<option${p === s.preset ? " selected" : ""}>${p}</option>`).join("");
  $("pg-params").innerHTML = s.parameters.map((p) =>
    `<label>${p.key}<input data-key="${p.key}" type="number" step="any" value="${p.value}"${p.min !== undefined ? ` min="${p.min}" max="${p.max}"` : ""}></label>`).join("");
  $("pg-save").disabled = !s.can_save;
  $("pg-save").title = s.can_save ? "save the network" : "start the playground with -o FILE to save";
}
$("pg-run").addEventListener("click", () => send({ type: "play" }));
$("pg-pause").addEventListener("click", () => send({ type: "pause" }));
$("pg-step").addEventListener("click", () => send({ type: "step", count: 1 }));
$("pg-save").addEventListener("click", () => send({ type: "save" }));
$("pg-build").addEventListener("click", () => {
  // Only the parameters changed from the preset's are sent (a message holds at most 1 KiB).
  const params = {};
  for (const input of $("pg-params").querySelectorAll("input")) {
    if (input.value !== input.defaultValue) params[input.dataset.key] = String(input.value);
  }
  history.length = 0;
  send({ type: "build", preset: $("pg-preset").value, seed: Number($("pg-seed").value), params });
});
function showInputs(t) {
  for (let i = 0; i < t.inputs.length; i++) { const b = $(`pg-input-${i}`); if (b) b.textContent = `${i}: ${t.inputs[i]}`; }
}

// ---------- clamping inputs on a live run ----------
// Each input's button cycles released → +1 → 0 → −1 → released; the run holds it from its next tick.
const CLAMP_NEXT = { released: 1, "1": 0, "0": -1, "-1": "released" };
function buildClamps(s) {
  const host = $("clamp-inputs");
  host.innerHTML = "";
  view.clamps = [];
  const live = s.mode === "live" || s.mode === "robot";
  $("clamps").hidden = !live || !s.network;
  if ($("clamps").hidden) return;
  for (let i = 0; i < s.input_count; i++) {
    view.clamps.push("released");
    const b = document.createElement("button");
    b.id = `clamp-input-${i}`;
    b.textContent = `${i}`;
    b.disabled = !s.controls;
    b.title = s.controls ? "clamp this input" : "controls that change behaviour are off for this run";
    b.addEventListener("click", () => clampInput(i, CLAMP_NEXT[String(view.clamps[i])]));
    host.appendChild(b);
  }
}
function clampInput(i, state) {
  view.clamps[i] = state;
  send(state === "released" ? { type: "release", index: i } : { type: "clamp", index: i, state });
  const b = $(`clamp-input-${i}`);
  b.textContent = state === "released" ? `${i}` : `${i}: ${state > 0 ? "+" : state < 0 ? "−" : "0"}`;
  b.classList.toggle("held", state !== "released");
}
view.clampInput = clampInput;

// ---------- recording playback ----------
$("play").addEventListener("click", () => send({ type: "play" }));
$("pause").addEventListener("click", () => send({ type: "pause" }));
$("step").addEventListener("click", () => send({ type: "step", count: 1 }));
$("speed").addEventListener("change", () => send({ type: "speed", value: Number($("speed").value) }));
$("seek").addEventListener("change", () => { history.length = 0; path.length = 0; send({ type: "seek", tick: Number($("seek").value) }); });
$("stop").addEventListener("click", () => send({ type: "stop" }));
function updatePosition(m) {
  $("pg-position").textContent = `step ${m.tick}, ${m.playing ? "running" : "paused"}`;
  $("position").textContent = `tick ${m.tick} of ${m.tick_count} ${m.playing ? "playing" : "paused"} ×${m.speed}`;
  if (document.activeElement !== $("seek")) $("seek").value = m.tick;
  view.position = m;
}

// ---------- the loop ----------
let fpsFrames = 0, fpsStart = performance.now(), shownTick = -1;
function animate() {
  requestAnimationFrame(animate);
  const t = view.lastTick;
  if (t && view.scene && t.tick !== shownTick) {
    shownTick = t.tick;
    colourNeurons(t);
    showModulators(t.modulators);
    showPicked();
    if (view.scene.mode === "playground") showInputs(t);
  }
  if (neuronPoints) neuronPoints.rotation.y += 0.0015;
  if (synapseLines) synapseLines.rotation.y = neuronPoints.rotation.y;
  for (const c of particleClouds) c.rotation.y -= 0.003;
  controls.update();
  renderer.render(scene3d, camera);
  drawWorld();
  drawPlots();
  view.frames++;
  fpsFrames++;
  const now = performance.now();
  if (now - fpsStart >= 1000) { view.fps = fpsFrames * 1000 / (now - fpsStart); fpsFrames = 0; fpsStart = now; }
}

window.addEventListener("error", (e) => view.errors.push(String(e.message)));
initThree();
connect();
animate();
