// @ts-check
/** Telling the agent about a new message: a short tone, a desktop notification, the title's count. */

let audio = /** @type {AudioContext | null} */ (null);
const baseTitle = document.title;

/** Ask for notification permission on the first click (browsers allow it only after a gesture). */
export function askOnFirstClick() {
  const ask = () => {
    if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
    audio ??= new AudioContext();
    removeEventListener("click", ask);
  };
  addEventListener("click", ask);
}

/**
 * A new message from someone else.
 * @param {string} title
 * @param {string} text
 */
export function notify(title, text) {
  if (audio && audio.state === "running") {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.05;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.12);
  }
  if (document.hidden && "Notification" in window && Notification.permission === "granted") {
    new Notification(title, { body: text.slice(0, 140), tag: "parley-console" });
  }
}

/** Show the total of unread messages in the tab's title. @param {number} unread */
export function titleCount(unread) {
  document.title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
}
