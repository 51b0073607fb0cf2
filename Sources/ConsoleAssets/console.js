// MemoryPlane's web console: one module, no dependencies. It calls the REST API like any
// client, with the session cookie `serve` set at sign-in (the page never keeps the secret) and
// the session's CSRF token on every change. Text from the server is always set as text.

const state = { csrf: null, timers: [], page: null };

// MARK: DOM

/** An element: h("td", {class: "x"}, "text", child, ...). Strings become text nodes. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  for (const child of children) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

const $ = (selector) => document.querySelector(selector);
const status = (text) => h("span", { class: `status status-${text}` }, text);

function toast(message, bad = false) {
  const box = $("#toast");
  box.textContent = message;
  box.className = `toast show${bad ? " bad" : ""}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.className = "toast"; }, bad ? 8000 : 4000);
}

function table(columns, rows, empty = "None.") {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, column)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))));
}

/** Puts `children` in `container`, unless they render exactly what is there: a page refreshed
 *  every second keeps the elements (and their focus, and a script's references) that did not change. */
function replace(container, ...children) {
  const next = document.createElement("div");
  next.append(...children.flat().filter((child) => child !== null && child !== undefined));
  if (container.childNodes.length > 0 && next.innerHTML === container.innerHTML) return;
  container.replaceChildren(...Array.from(next.childNodes));
}

// MARK: API

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  const headers = { "X-MemoryPlane-Console": "1" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const error = data.error || {};
    if (response.status === 401 && path.startsWith("/v1/")) showSignIn();
    throw new APIError(response.status, error.code || `HTTP${response.status}`, error.message || response.statusText);
  }
  return data;
}

/** Runs an action, showing the API's message when it is refused. */
async function act(what, run) {
  try {
    await run();
    toast(what);
    return true;
  } catch (error) {
    toast(`${error.code ? error.code + ": " : ""}${error.message}`, true);
    return false;
  }
}

// MARK: Session

async function start() {
  $("#sign-in").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  const session = await api("GET", "/console/session");
  if (session.signedIn) signedIn(session); else showSignIn();
}

function signedIn(session) {
  state.csrf = session.csrfToken || null;
  $("#sign-in").hidden = true;
  $("#nav").hidden = false;
  $("#sign-out").hidden = !session.authRequired;
  $("#who").textContent = session.authRequired ? `signed in as ${session.accessKeyId}` : "no authentication (--auth none)";
  route();
}

function showSignIn() {
  stopTimers();
  state.csrf = null;
  $("#nav").hidden = true;
  $("#sign-out").hidden = true;
  $("#who").textContent = "";
  replace($("#page"));
  $("#sign-in").hidden = false;
  $("#accessKeyId").focus();
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  $("#sign-in-error").textContent = "";
  try {
    const session = await api("POST", "/console/session", {
      accessKeyId: form.accessKeyId.value.trim(), secretAccessKey: form.secretAccessKey.value,
    });
    form.secretAccessKey.value = "";
    signedIn(session);
  } catch (error) {
    $("#sign-in-error").textContent = error.message;
  }
}

async function signOut() {
  await api("DELETE", "/console/session").catch(() => {});
  showSignIn();
}

// MARK: Routing

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

/** Calls `refresh` now and every `milliseconds` while the page is shown. */
function every(milliseconds, refresh) {
  const run = () => refresh().catch((error) => { if (error.status !== 401) toast(error.message, true); });
  run();
  state.timers.push(setInterval(run, milliseconds));
}

const pages = {
  "": clustersPage, "create": createPage, "cluster": clusterPage, "parameter-groups": parameterGroupsPage,
  "access": accessPage, "subnet-groups": subnetGroupsPage, "snapshots": snapshotsPage, "stacks": stacksPage,
  "events": eventsPage, "audit": auditPage,
};

function route() {
  if (!$("#sign-in").hidden) return;
  stopTimers();
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === `#/${name}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const page = h("div", { class: "page" });
  replace($("#page"), page);
  (pages[name] || clustersPage)(page, ...rest);
  $("#main").focus({ preventScroll: true });
}

// MARK: Clusters

function clusterRow(cluster, alarms) {
  const replicas = Math.max(0, ...cluster.shards.map((shard) => shard.nodes.length)) - 1;
  const endpoint = cluster.clusterEndpoint.address ? `${cluster.clusterEndpoint.address}:${cluster.clusterEndpoint.port}` : "—";
  return [
    h("a", { href: `#/cluster/${encodeURIComponent(cluster.name)}`, "data-cluster": cluster.name }, cluster.name),
    status(cluster.status), `${cluster.engine} ${cluster.engineVersion}`, cluster.nodeType,
    `${cluster.numberOfShards} × ${1 + Math.max(0, replicas)}`, cluster.tlsEnabled ? "on" : "off", endpoint,
    alarms > 0 ? h("span", { class: "status status-ALARM" }, `${alarms} in ALARM`) : "none",
  ];
}

function clustersPage(page) {
  const list = h("div", { id: "clusters" }, h("p", { class: "muted" }, "Loading…"));
  replace(page, h("h1", {}, "Clusters"), h("p", {}, h("a", { href: "#/create" }, "Create a cluster")), list);
  // Alarms change at the metrics' pace (every 10 s by default): asked for every 5 s, one call
  // per cluster; the list itself every second.
  const alarms = new Map();
  every(5000, async () => {
    const { clusters } = await api("GET", "/v1/clusters");
    await Promise.all(clusters.map((cluster) => api("GET", `/v1/clusters/${encodeURIComponent(cluster.name)}/alarms`)
      .then((reply) => alarms.set(cluster.name, (reply.alarms || []).filter((alarm) => alarm.state === "ALARM").length)).catch(() => {})));
  });
  every(1000, async () => {
    const { clusters } = await api("GET", "/v1/clusters");
    // How long the page takes from the data's arrival to the drawn list (make bench reads it).
    performance.mark("clusters-data");
    replace(list, table(
      ["Name", "Status", "Engine", "Node type", "Shards × nodes", "TLS", "Endpoint", "Alarms"],
      clusters.map((cluster) => clusterRow(cluster, alarms.get(cluster.name) || 0)), "No clusters yet."));
    performance.measure("clusters-render", "clusters-data");
    // A page kept open for days keeps only the last hundred measures.
    performance.clearMarks("clusters-data");
    if (performance.getEntriesByName("clusters-render").length > 100) performance.clearMeasures("clusters-render");
  });
}

function createPage(page) {
  const form = h("form", { class: "card", id: "create-cluster" },
    h("h1", {}, "Create a cluster"),
    h("label", { for: "c-name" }, "Name"), h("input", { id: "c-name", name: "name", required: true }),
    h("label", { for: "c-nodeType" }, "Node type"),
    h("select", { id: "c-nodeType", name: "nodeType" }, ["db.t4g.small", "db.t4g.medium", "db.r7g.large", "db.r7g.xlarge", "db.r6g.large"].map((type) => h("option", {}, type))),
    h("label", { for: "c-numShards" }, "Shards"), h("input", { id: "c-numShards", name: "numShards", type: "number", min: 1, value: 1 }),
    h("label", { for: "c-replicas" }, "Replicas per shard"), h("input", { id: "c-replicas", name: "numReplicasPerShard", type: "number", min: 0, max: 5, value: 1 }),
    h("label", { for: "c-acl" }, "ACL"), h("input", { id: "c-acl", name: "aclName", value: "open-access" }),
    h("label", { for: "c-group" }, "Parameter group (empty: the engine's default)"), h("input", { id: "c-group", name: "parameterGroupName" }),
    h("label", { for: "c-description" }, "Description"), h("input", { id: "c-description", name: "description" }),
    h("label", { for: "c-tls" }, h("input", { id: "c-tls", name: "tlsEnabled", type: "checkbox", checked: true }), " TLS"),
    h("button", { type: "submit" }, "Create"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      name: form.name.value.trim(), nodeType: form.nodeType.value, numShards: Number(form.numShards.value),
      numReplicasPerShard: Number(form.numReplicasPerShard.value), aclName: form.aclName.value.trim(), tlsEnabled: form.tlsEnabled.checked,
    };
    if (form.parameterGroupName.value.trim()) body.parameterGroupName = form.parameterGroupName.value.trim();
    if (form.description.value.trim()) body.description = form.description.value.trim();
    if (await act(`Creating ${body.name}`, () => api("POST", "/v1/clusters", body))) location.hash = `#/cluster/${encodeURIComponent(body.name)}`;
  });
  replace(page, form);
}

function topology(cluster) {
  const name = encodeURIComponent(cluster.name);
  return h("div", { class: "topology", id: "topology" }, cluster.shards.map((shard) =>
    h("section", { class: "shard", "data-shard": shard.name, "aria-label": `Shard ${shard.name}` },
      h("h3", {}, `Shard ${shard.name} `, status(shard.status)),
      h("div", { class: "muted" }, `slots ${shard.slots || "—"}`),
      h("div", { class: "nodes" }, shard.nodes.map((node) =>
        h("div", { class: `node role-${node.role}`, "data-node": node.name, "data-role": node.role, "data-zone": node.availabilityZone },
          h("div", {}, h("strong", { class: "node-name" }, node.name), " ", h("span", { class: "role" }, node.role)),
          h("div", { class: "muted" }, h("span", { class: "zone" }, node.availabilityZone), ` · port ${node.endpoint.port} · `, status(node.status))))),
      h("button", {
        type: "button", class: "secondary", "data-failover": shard.name, "aria-label": `Fail over shard ${shard.name}`,
        onclick: () => act(`Failover of shard ${shard.name} started`, () => api("POST", `/v1/clusters/${name}/shards/${encodeURIComponent(shard.name)}/failover`)),
      }, "Fail over"))));
}

function clusterPage(page, clusterName) {
  const path = `/v1/clusters/${encodeURIComponent(clusterName)}`;
  const header = h("div", {});
  const map = h("div", {});
  const operations = h("div", {});
  const charts = h("div", { class: "grid", id: "charts" });
  const events = h("div", {});
  const alarms = h("div", {});
  const advice = h("div", {});
  const snapshots = h("div", {});
  replace(page, header, h("h2", {}, "Topology"), map, h("h2", {}, "Operations in progress"), operations,
    h("h2", {}, "Metrics (last minutes)"), charts, h("h2", {}, "Actions"), clusterActions(clusterName, path),
    h("h2", {}, "Alarms"), alarms, h("h2", {}, "Advisor"), advice, h("h2", {}, "Snapshots"), snapshots, h("h2", {}, "Events"), events);
  every(1000, async () => {
    const cluster = await api("GET", path);
    replace(header, h("h1", {}, `Cluster ${cluster.name} `, status(cluster.status)),
      h("p", { class: "muted" }, `${cluster.engine} ${cluster.enginePatchVersion} · ${cluster.nodeType} · TLS ${cluster.tlsEnabled ? "on" : "off"} · ACL ${cluster.aclName} · parameter group ${cluster.parameterGroupName} (${cluster.parameterGroupStatus}) · endpoint ${cluster.clusterEndpoint.address || "—"}:${cluster.clusterEndpoint.port} · deletion protection ${cluster.deletionProtection ? "on" : "off"}`),
      cluster.lastError ? h("p", { class: "error" }, cluster.lastError) : null);
    replace(map, topology(cluster));
    replace(operations, table(["Shard", "Kind", "Phase", "Reason", "From", "To", "Started"],
      (cluster.operations || []).map((operation) => [operation.shard, operation.kind, operation.phase, operation.reason, operation.fromNode, operation.toNode, operation.startedAt]), "None."));
  });
  every(5000, async () => {
    const [metrics, alarmReply, adviceReply, snapshotReply, eventReply] = await Promise.all([
      api("GET", `${path}/metrics`), api("GET", `${path}/alarms`), api("GET", `${path}/advisor`),
      api("GET", `/v1/snapshots?clusterName=${encodeURIComponent(clusterName)}`), api("GET", `/v1/events?sourceName=${encodeURIComponent(clusterName)}`),
    ]);
    replace(charts, metricCharts(metrics));
    replace(alarms, table(["Node", "Metric", "State", "Value", "Threshold", "Since"],
      (alarmReply.alarms || []).map((alarm) => [alarm.node, alarm.metric, status(alarm.state), alarm.value, alarm.threshold, alarm.since]), "No alarms."));
    replace(advice, table(["Severity", "Finding", "Fix"],
      (adviceReply.findings || []).map((finding) => [finding.severity, finding.evidence, finding.fix]), "Nothing to advise."));
    replace(snapshots, table(["Name", "Status", "Source", "Created"],
      (snapshotReply.snapshots || []).map((snapshot) => [snapshot.name, status(snapshot.status), snapshot.source, snapshot.createTime]), "No snapshots."));
    replace(events, table(["Date", "Message"], (eventReply.events || []).slice(0, 25).map((event) => [event.date, event.message]), "No events."));
  });
}

function clusterActions(clusterName, path) {
  const shape = h("form", { class: "inline" },
    h("label", { for: "a-shards" }, "Shards"), h("input", { id: "a-shards", name: "numShards", type: "number", min: 1 }),
    h("label", { for: "a-replicas" }, "Replicas per shard"), h("input", { id: "a-replicas", name: "numReplicasPerShard", type: "number", min: 0, max: 5 }),
    h("label", { for: "a-type" }, "Node type"), h("input", { id: "a-type", name: "nodeType", placeholder: "db.r7g.large" }),
    h("button", { type: "submit" }, "Change"));
  shape.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = {};
    if (shape.numShards.value) body.numShards = Number(shape.numShards.value);
    if (shape.numReplicasPerShard.value) body.numReplicasPerShard = Number(shape.numReplicasPerShard.value);
    if (shape.nodeType.value.trim()) body.nodeType = shape.nodeType.value.trim();
    act(`Updating ${clusterName}`, () => api("PATCH", path, body));
  });
  const drill = h("form", { class: "inline" },
    h("label", { for: "a-zone" }, "Zone outage drill"), h("input", { id: "a-zone", name: "availabilityZone", placeholder: "us-east-1a" }),
    h("button", { type: "submit", class: "secondary" }, "Run drill"));
  drill.addEventListener("submit", (event) => {
    event.preventDefault();
    act("Drill started", () => api("POST", "/v1/drills", { cluster: clusterName, availabilityZone: drill.availabilityZone.value.trim() || undefined }));
  });
  const snapshot = h("form", { class: "inline" },
    h("label", { for: "a-snapshot" }, "Snapshot name"), h("input", { id: "a-snapshot", name: "snapshotName" }),
    h("button", { type: "submit", class: "secondary" }, "Take snapshot"));
  snapshot.addEventListener("submit", (event) => {
    event.preventDefault();
    act("Snapshot started", () => api("POST", "/v1/snapshots", { clusterName, snapshotName: snapshot.snapshotName.value.trim() }));
  });
  // Turning protection off is an update of its own, as the API requires.
  const protection = h("div", { class: "inline" },
    h("button", {
      type: "button", class: "secondary", "data-protect": "on",
      onclick: () => act(`Deletion protection on for ${clusterName}`, () => api("PATCH", path, { deletionProtection: true })),
    }, "Protect from deletion"),
    h("button", {
      type: "button", class: "secondary", "data-protect": "off",
      onclick: () => act(`Deletion protection off for ${clusterName}`, () => api("PATCH", path, { deletionProtection: false })),
    }, "Allow deletion"));
  const remove = h("form", { class: "inline" },
    h("label", { for: "a-confirm" }, `Type ${clusterName} to delete it`), h("input", { id: "a-confirm", name: "confirm", autocomplete: "off" }),
    h("button", { type: "submit", class: "danger" }, "Delete cluster"));
  remove.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (remove.confirm.value !== clusterName) { toast(`Type the cluster's name, ${clusterName}, to confirm.`, true); return; }
    if (await act(`Deleting ${clusterName}`, () => api("DELETE", path))) location.hash = "#/";
  });
  const power = h("div", { class: "inline" },
    h("button", {
      type: "button", class: "secondary", "data-power": "stop",
      onclick: () => act(`Stopping ${clusterName}`, () => api("POST", `${path}/stop`)),
    }, "Stop (keep data)"),
    h("button", {
      type: "button", class: "secondary", "data-power": "start",
      onclick: () => act(`Starting ${clusterName}`, () => api("POST", `${path}/start`)),
    }, "Start"));
  return h("div", { class: "card actions" }, shape, drill, snapshot, protection, power, remove);
}

// MARK: Charts

const chartMetrics = [
  { title: "Memory used (MB)", value: (node) => node.BytesUsedForMemoryDB / 1048576 },
  { title: "CPU (% of a core)", value: (node) => node.CPUUtilization },
  { title: "Connections", value: (node) => node.CurrConnections },
  { title: "Commands per second", rate: (node) => Object.entries(node).filter(([name]) => name.endsWith("Cmds")).reduce((sum, [, count]) => sum + count, 0) },
  { title: "Replication lag (s)", value: (node) => node.ReplicationLag },
];
const colours = ["#0b5cad", "#6b4fa3", "#1d7a3a", "#a15c00", "#b3261e", "#00838f", "#5d4037", "#455a64"];

function metricCharts(metrics) {
  const history = metrics.history || [];
  const interval = metrics.intervalSeconds || 10;
  const nodes = [...new Set(history.flatMap((sample) => Object.keys(sample.nodes || {})))].sort();
  return chartMetrics.map((metric) => {
    const series = nodes.map((node) => history.map((sample, index) => {
      const now = sample.nodes?.[node];
      if (!now) return null;
      if (metric.value) return Number.isFinite(metric.value(now)) ? metric.value(now) : null;
      const before = history[index - 1]?.nodes?.[node];
      return before ? Math.max(0, (metric.rate(now) - metric.rate(before)) / interval) : null;
    }));
    return chart(metric.title, nodes, series, history.length);
  });
}

function chart(title, names, series, length) {
  const width = 300, height = 120;
  const values = series.flat().filter((value) => value !== null);
  const top = Math.max(1, ...values);
  const x = (index) => (length <= 1 ? 0 : (index / (length - 1)) * width);
  const y = (value) => height - (value / top) * (height - 10);
  const lines = series.map((points, which) => {
    const d = points.map((value, index) => (value === null ? null : `${x(index).toFixed(1)},${y(value).toFixed(1)}`)).filter(Boolean);
    return d.length ? svg("polyline", { points: d.join(" "), fill: "none", stroke: colours[which % colours.length], "stroke-width": 2, "data-series": names[which] }) : null;
  }).filter(Boolean);
  const graphic = svg("svg", { class: "plot", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${values.length} points, up to ${top.toFixed(1)}` },
    svg("title", {}, title), ...lines);
  return h("figure", { class: "chart card", "data-chart": title },
    h("figcaption", {}, h("strong", {}, title), h("span", { class: "muted" }, ` max ${top.toFixed(1)}`)), graphic,
    h("div", { class: "legend" }, names.map((name, which) => h("span", {},
      svg("svg", { width: 10, height: 10, "aria-hidden": "true" }, svg("rect", { width: 10, height: 10, fill: colours[which % colours.length] })), ` ${name}  `))));
}

// MARK: Lists

function listPage(page, title, load, columns, row, empty) {
  const list = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  replace(page, h("h1", {}, title), list);
  every(3000, async () => replace(list, table(columns, (await load()).map(row), empty)));
}

function parameterGroupsPage(page) {
  const details = h("div", { id: "parameters" });
  listPage(page, "Parameter groups", async () => (await api("GET", "/v1/parameter-groups")).parameterGroups,
    ["Name", "Family", "Description", ""], (group) => [group.name, group.family, group.description,
      h("button", { type: "button", class: "secondary", onclick: () => showParameters(group.name, details) }, `Parameters of ${group.name}`)]);
  page.append(details);
}

async function showParameters(name, details) {
  const { parameters } = await api("GET", `/v1/parameter-groups/${encodeURIComponent(name)}/parameters?maxResults=100`);
  replace(details, h("h2", {}, `Parameters of ${name}`), table(["Name", "Value", "Type", "Allowed", "Applies"],
    parameters.map((parameter) => [parameter.name, parameter.value, parameter.dataType, parameter.allowedValues, parameter.changeType || ""])));
}

function accessPage(page) {
  const users = h("div", {}), acls = h("div", {});
  replace(page, h("h1", {}, "Users and ACLs"), h("h2", {}, "Users"), users, h("h2", {}, "ACLs"), acls);
  every(3000, async () => {
    const [userReply, aclReply] = await Promise.all([api("GET", "/v1/users"), api("GET", "/v1/acls")]);
    replace(users, table(["Name", "Status", "Access string", "Authentication", "ACLs"], userReply.users.map((user) =>
      [user.name, status(user.status), h("code", {}, user.accessString), `${user.authentication.type} (${user.authentication.passwordCount ?? 0} password(s))`, user.aclNames.join(", ")])));
    replace(acls, table(["Name", "Status", "Users", "Clusters"], aclReply.acls.map((acl) =>
      [acl.name, status(acl.status), acl.userNames.join(", "), acl.clusters.join(", ")])));
  });
}

function subnetGroupsPage(page) {
  listPage(page, "Subnet groups", async () => (await api("GET", "/v1/subnet-groups")).subnetGroups,
    ["Name", "Description", "Subnets"], (group) => [group.name, group.description, group.subnets.map((subnet) => `${subnet.identifier} (${subnet.availabilityZone})`).join(", ")]);
}

function snapshotsPage(page) {
  listPage(page, "Snapshots", async () => (await api("GET", "/v1/snapshots")).snapshots,
    ["Name", "Cluster", "Status", "Source", "Created", "Restore into a new cluster"], (snapshot) => {
      const form = h("form", { class: "inline" },
        h("label", { for: `r-${snapshot.name}` }, "New cluster"), h("input", { id: `r-${snapshot.name}`, name: "cluster", required: true }),
        h("button", { type: "submit", class: "secondary" }, "Restore"));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const configuration = snapshot.clusterConfiguration;
        act(`Restoring ${snapshot.name}`, () => api("POST", "/v1/clusters", {
          name: form.cluster.value.trim(), nodeType: configuration.nodeType, aclName: "open-access", snapshotName: snapshot.name,
          numShards: configuration.numShards,
        }));
      });
      return [snapshot.name, snapshot.clusterName, status(snapshot.status), snapshot.source, snapshot.createTime, snapshot.status === "available" ? form : ""];
    }, "No snapshots.");
}

function stacksPage(page) {
  listPage(page, "Stacks", async () => (await api("GET", "/v1/stacks")).stacks,
    ["Name", "Status", "Resources", "Drift"], (stack) => [stack.name, status(stack.status), String((stack.resources || []).length),
      (stack.drift || []).length ? `${stack.drift.length} change(s) since the last apply` : "in sync"], "No stacks.");
}

function eventsPage(page) {
  listPage(page, "Events", async () => (await api("GET", "/v1/events")).events.slice(0, 200),
    ["Date", "Source", "Type", "Message"], (event) => [event.date, event.sourceName, event.sourceType, event.message], "No events.");
}

function auditPage(page) {
  const filter = h("input", { id: "audit-filter", name: "filter", placeholder: "operation, resource, key or outcome" });
  const list = h("div", {});
  let entries = [];
  const show = () => {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const shown = entries.filter((entry) => words.every((word) => JSON.stringify(entry).toLowerCase().includes(word)));
    replace(list, table(["Time", "Door", "Key", "Operation", "Resource", "Outcome"],
      shown.map((entry) => [entry.time, entry.door, entry.accessKeyId, entry.operation, entry.resource, entry.outcome]), "No calls."));
  };
  filter.addEventListener("input", show);
  replace(page, h("h1", {}, "Audit trail"), h("label", { for: "audit-filter" }, "Filter"), filter, list);
  every(3000, async () => { entries = (await api("GET", "/v1/audit?maxResults=200")).events || []; show(); });
}

start().catch((error) => toast(error.message, true));
