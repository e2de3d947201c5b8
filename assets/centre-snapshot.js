/* The county page's snapshot: the server takes the frame on screen at the stream's full resolution
 * (/snapshot/full/<camera>.jpg, audited there); this shows it as a preview with its size, says so in
 * the toast, and saves it as a file. */
(function () {
  "use strict";

  function stamp() {
    var d = new Date(), p = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + "T" + p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds());
  }

  function take(button) {
    var camera = button.getAttribute("data-camera");
    var toast = document.getElementById("snapshot-toast");
    if (!camera || !toast) return;
    button.disabled = true;
    fetch("/snapshot/full/" + encodeURIComponent(camera) + ".jpg", { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        var width = response.headers.get("X-Width"), height = response.headers.get("X-Height");
        return response.blob().then(function (blob) { return { blob: blob, width: width, height: height }; });
      })
      .then(function (shot) {
        var url = URL.createObjectURL(shot.blob);
        toast.textContent = "";
        var text = document.createElement("span");
        text.className = "snapshot-message";
        text.textContent = (button.getAttribute("data-taken") || "")
          .replace("{width}", shot.width).replace("{height}", shot.height);
        var image = document.createElement("img");
        image.src = url;
        image.alt = button.getAttribute("data-preview") || "";
        image.className = "snapshot-preview";
        image.setAttribute("data-width", shot.width);
        image.setAttribute("data-height", shot.height);
        image.style.maxWidth = "240px";
        image.style.display = "block";
        var save = document.createElement("a");
        save.href = url;
        save.download = camera + "-" + stamp() + ".jpg";
        save.className = "snapshot-save";
        save.textContent = "⤓ " + save.download;
        toast.appendChild(text);
        toast.appendChild(image);
        toast.appendChild(save);
        toast.classList.add("shown");
        save.click();
      })
      .catch(function () {
        toast.textContent = button.getAttribute("data-failed") || "";
        toast.classList.add("shown", "failed");
      })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("#snapshot-button") : null;
    if (button) take(button);
  });
})();
