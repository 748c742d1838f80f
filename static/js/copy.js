/* Copy buttons: a button with data-copy="ID" copies the text of element ID. Without this script the
   buttons stay hidden and the text is still there to select by hand. */
(function () {
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      var done = function () {
        button.textContent = button.getAttribute("data-copied") || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      var fallback = function () {
        selectText(source);
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected to copy by hand */ }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.innerText).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
})();
