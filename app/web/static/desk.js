// The desk: screen pop by Server-Sent Events, and the softphone (Twilio Voice JS SDK).
// Everything else on the page is plain forms that work without this file.
"use strict";
(function () {
  var desk = document.getElementById("desk");
  if (!desk) { return; }
  var csrf = desk.getAttribute("data-csrf");
  var pop = document.getElementById("pop");
  var popEmpty = document.getElementById("pop-empty");
  var phoneState = document.getElementById("phone-state");
  var current = null;
  var waitTimer = null;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function clock(seconds) {
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function row(list, label, value) {
    list.appendChild(el("dt", label));
    list.appendChild(el("dd", value === null || value === undefined || value === "" ? "—" : value));
  }

  function showPop(data, callId) {
    current = callId;
    pop.setAttribute("data-call-sid", data.call_sid || "");
    pop.textContent = "";
    pop.hidden = false;
    popEmpty.hidden = true;
    var account = data.account;
    var head = el("h2", account ? account.name : "Unknown caller");
    head.id = "pop-title";
    pop.appendChild(head);
    if (data.tier === "paid") { pop.appendChild(el("span", "Paid", "badge badge-paid")); }
    var facts = el("dl", null, "facts");
    row(facts, "Caller", data.from);
    row(facts, "Account", account ? account.number + (account.external_ref ? " · " + account.external_ref : "") : "no account matched");
    row(facts, "Tier", data.tier);
    row(facts, "Language", data.language);
    row(facts, "Topic", data.topic);
    var waited = el("dd", clock(data.waiting_seconds || 0));
    waited.id = "pop-wait";
    facts.appendChild(el("dt", "Waiting"));
    facts.appendChild(waited);
    pop.appendChild(facts);
    var started = Date.now() - (data.waiting_seconds || 0) * 1000;
    clearInterval(waitTimer);
    waitTimer = setInterval(function () {
      waited.textContent = clock(Math.round((Date.now() - started) / 1000));
    }, 1000);
    pop.appendChild(el("h3", "IVR path"));
    var path = el("ol", null, "path");
    (data.path || []).forEach(function (step) {
      path.appendChild(el("li", step.input ? step.step + ": " + step.input : step.step));
    });
    pop.appendChild(path);
    pop.appendChild(el("h3", "Last calls"));
    if (!data.recent_calls || !data.recent_calls.length) {
      pop.appendChild(el("p", "No earlier calls.", "muted"));
    } else {
      var calls = el("ul", null, "recent");
      data.recent_calls.forEach(function (c) {
        calls.appendChild(el("li", c.started_at.slice(0, 16).replace("T", " ") + " UTC · " +
          (c.outcome || "—") + (c.disposition ? " (" + c.disposition + ")" : "") +
          (c.handled_by ? " · " + c.handled_by : "")));
      });
      pop.appendChild(calls);
    }
    pop.appendChild(el("h3", "Latest notes"));
    if (!data.notes || !data.notes.length) {
      pop.appendChild(el("p", "No notes.", "muted"));
    } else {
      var notes = el("ul", null, "notes");
      data.notes.forEach(function (n) {
        notes.appendChild(el("li", n.at.slice(0, 10) + " · " + n.author + ": " + n.body));
      });
      pop.appendChild(notes);
    }
    var status = el("p", "Ringing: answer your phone and press 1 to accept.", "pop-status");
    status.id = "pop-status";
    pop.appendChild(status);
    document.title = "Ringing · " + (account ? account.name : data.from);
  }

  function clearPop() {
    current = null;
    clearInterval(waitTimer);
    pop.hidden = true;
    pop.textContent = "";
    popEmpty.hidden = false;
    document.title = "My desk · Switchboard";
  }

  function mine(data) {
    return data.call_id === null || data.call_id === undefined || current === null || data.call_id === current;
  }

  if (window.EventSource) {
    var source = new EventSource("/desk/events");
    // Listening: rings from now on pop up (tests and people can tell it is live).
    source.addEventListener("ready", function () { desk.setAttribute("data-live", "yes"); });
    source.onerror = function () { desk.setAttribute("data-live", "no"); };
    source.addEventListener("ring", function (event) {
      var data = JSON.parse(event.data);
      showPop(data.pop || {}, data.call_id);
    });
    source.addEventListener("answered", function (event) {
      var data = JSON.parse(event.data);
      var status = document.getElementById("pop-status");
      if (status && mine(data)) { status.textContent = "On the call."; }
      if (mine(data)) { onCall(pop.getAttribute("data-call-sid")); }
    });
    source.addEventListener("ring_ended", function (event) {
      var data = JSON.parse(event.data);
      if (!mine(data)) { return; }
      if (data.talked) {
        // The call log now lists the call under "After the call": reload that part.
        window.location.reload();
        return;
      }
      clearPop();
    });
    source.addEventListener("availability", function (event) {
      var data = JSON.parse(event.data);
      var now = document.getElementById("availability-now");
      if (now) { now.textContent = data.availability; }
      document.querySelectorAll("input[name=availability]").forEach(function (input) {
        input.checked = input.value === data.availability;
      });
    });
  }

  // --- call back and transfer: the forms post with fetch and show the outcome in place ----
  function post(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    });
  }
  function follow(url, show, delay) {
    // Where the callback or transfer is now, every 1.5 s while it is under way.
    setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (body) { if (show(body)) { follow(url, show, 1500); } })
        .catch(function () { follow(url, show, 5000); });
    }, delay);
  }
  function showDial(line, body) {
    line.textContent = body.text || "";
    line.setAttribute("data-status", body.status || "");
    if (body.under_way) { line.setAttribute("data-under-way", "yes"); } else { line.removeAttribute("data-under-way"); }
    return !!body.under_way;
  }
  document.querySelectorAll("form.dial-form").forEach(function (form) {
    var id = form.getAttribute("data-item");
    var line = document.getElementById("dial-" + id);
    var button = form.querySelector("button");
    var url = "/desk/work/" + id + "/dial";
    if (line.getAttribute("data-under-way") === "yes") {
      follow(url, function (body) { return showDial(line, body); }, 0);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      line.textContent = "Placing the call…";
      post(form).then(function (answer) {
        button.disabled = false;
        line.classList.toggle("failed", !answer.ok);
        if (showDial(line, answer.body)) {
          follow(url, function (body) { return showDial(line, body); }, 1500);
        }
      }).catch(function () { button.disabled = false; line.textContent = "The desk could not reach Switchboard; try again."; });
    });
  });

  var transfer = document.getElementById("transfer");
  var transferForm = document.getElementById("transfer-form");
  var transferState = document.getElementById("transfer-state");
  var bring = document.getElementById("transfer-complete");
  function showTransfer(body) {
    transferState.textContent = body.text || "";
    transferState.setAttribute("data-status", body.status || "");
    bring.hidden = !body.can_complete;
    return !!body.under_way && !body.can_complete;
  }
  function onTransfer(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      transferState.textContent = "Asking Switchboard…";
      post(form).then(function (answer) {
        transferState.classList.toggle("failed", !answer.ok);
        if (showTransfer(answer.body) && answer.body.transfer_id) {
          follow("/desk/transfers/" + answer.body.transfer_id, showTransfer, 1500);
        }
      });
    });
  }
  if (transferForm) { onTransfer(transferForm); onTransfer(bring); }
  // A call I answer shows the transfer control for it (its SID came with the screen pop).
  function onCall(sid) {
    if (!transfer || !sid) { return; }
    transfer.querySelectorAll("input[name=call]").forEach(function (input) { input.value = sid; });
    transfer.hidden = false;
  }
  window.deskOnCall = onCall;

  // --- the softphone -------------------------------------------------------------------
  var phone = document.getElementById("softphone");
  if (!phone || !window.Twilio || !window.Twilio.Device) { return; }
  var answer = document.getElementById("phone-answer");
  var accept = document.getElementById("phone-accept");
  var mute = document.getElementById("phone-mute");
  var hangup = document.getElementById("phone-hangup");
  var call = null;
  var device = null;

  function state(text) { phoneState.textContent = text; }
  function buttons() {
    answer.disabled = !(call && call.status() === "pending");
    accept.disabled = !(call && call.status() === "open");
    mute.disabled = !(call && call.status() === "open");
    hangup.disabled = !call;
    mute.textContent = call && call.isMuted() ? "Unmute" : "Mute";
  }
  function token() {
    return fetch("/desk/voice-token", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) { throw new Error("token refused: " + response.status); }
      return response.json();
    });
  }
  // A new token before the old one runs out: when the SDK says so (it knows once Twilio's
  // signalling is up), and in any case a minute before the end of the token's lifetime.
  var renewal = null;
  function later(t) {
    var ttl = (t.ttl_seconds || 600) * 1000;
    clearTimeout(renewal);
    renewal = setTimeout(renew, Math.max(5000, ttl - Math.min(60000, ttl / 5)));
  }
  function renew() {
    token().then(function (fresh) {
      if (device) { device.updateToken(fresh.token); }
      later(fresh);
    }).catch(function (error) {
      state("Could not renew the softphone's token: " + error.message);
      clearTimeout(renewal);
      renewal = setTimeout(renew, 15000);
    });
  }
  state("Getting a token…");
  token().then(function (t) {
    device = new window.Twilio.Device(t.token, { closeProtection: true });
    device.on("registering", function () { state("Registering…"); });
    device.on("registered", function () { state("Registered: calls ring here"); });
    device.on("unregistered", function () { state("Not registered"); });
    device.on("error", function (error) { state("Softphone error: " + (error.message || error)); });
    device.on("tokenWillExpire", renew);
    later(t);
    device.on("incoming", function (incoming) {
      call = incoming;
      state("Ringing");
      incoming.on("accept", function () { state("On a call"); buttons(); });
      incoming.on("mute", function () { state(call.isMuted() ? "On a call (muted)" : "On a call"); buttons(); });
      ["disconnect", "cancel", "reject"].forEach(function (name) {
        incoming.on(name, function () { call = null; state("Registered: calls ring here"); buttons(); });
      });
      buttons();
    });
    state("Registering…");
    device.register();
  }).catch(function (error) { state("Softphone unavailable: " + error.message); });
  answer.addEventListener("click", function () { if (call) { call.accept(); } });
  // The whisper asks for 1, as on a phone: the same key accepts here.
  accept.addEventListener("click", function () { if (call) { call.sendDigits("1"); } });
  mute.addEventListener("click", function () { if (call) { call.mute(!call.isMuted()); buttons(); } });
  hangup.addEventListener("click", function () {
    if (!call) { return; }
    if (call.status() === "pending") { call.reject(); } else { call.disconnect(); }
  });
  // Closing the softphone: offline (a phone-number contact keeps ringing its phone).
  window.addEventListener("pagehide", function () {
    var form = new FormData();
    form.append("csrf_token", csrf);
    navigator.sendBeacon("/desk/softphone-closed", form);
  });
})();
