// @ts-check
/**
 * The phone layout: on small screens the sidebar (rooms, members, the name) is a panel of its
 * own behind the menu button, closed by its Close button, Escape, or a tap beside it.
 */
import { byId } from './dom.js';

export function createSidebar() {
  const app = byId('app', window.HTMLDivElement);
  const menuButton = byId('menu-button', window.HTMLButtonElement);
  const closeButton = byId('close-sidebar', window.HTMLButtonElement);

  function isOpen() {
    return app.classList.contains('sidebar-open');
  }

  /** @param {boolean} open */
  function setOpen(open) {
    const wasOpen = isOpen();
    app.classList.toggle('sidebar-open', open);
    menuButton.setAttribute('aria-expanded', String(open));
    if (open && !wasOpen) closeButton.focus();
    if (!open && wasOpen) menuButton.focus();
  }

  menuButton.addEventListener('click', () => setOpen(true));
  // A tap on the dimmed chat beside the open panel (drawn on the app itself) closes it.
  app.addEventListener('click', (event) => {
    if (event.target === app) setOpen(false);
  });
  closeButton.addEventListener('click', () => setOpen(false));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen()) setOpen(false);
  });

  return { isOpen, setOpen };
}
