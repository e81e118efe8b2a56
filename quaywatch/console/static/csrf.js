// Every state-changing request of the page carries the session's CSRF token: the console
// refuses POST, PUT, PATCH and DELETE without it. Loaded before the page's other scripts, so
// their fetch calls, and posted forms (the logout), all go through here.
"use strict";
(() => {
  const pageFetch = window.fetch.bind(window);
  const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

  function csrfToken() {
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("quaywatch_csrf="));
    return cookie ? cookie.slice("quaywatch_csrf=".length) : "";
  }

  window.fetch = (resource, options = {}) => {
    const method = (options.method || (resource instanceof Request ? resource.method : "GET")).toUpperCase();
    if (SAFE.has(method)) return pageFetch(resource, options);
    const headers = new Headers(options.headers || (resource instanceof Request ? resource.headers : {}));
    headers.set("X-CSRF-Token", csrfToken());
    return pageFetch(resource, { ...options, credentials: "same-origin", headers });
  };

  // A posted form is sent by fetch too, and the page follows where the answer leads.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    const response = await window.fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
    });
    window.location.assign(response.url);
  });
})();
