// The week opens at today on a phone (a day-by-day list); a link with its own #anchor is left alone.
if (!location.hash && window.matchMedia("(max-width: 760px)").matches) {
  var today = document.getElementById("today");
  if (today) { today.scrollIntoView(); }
}
