import { nextTick, watch } from "vue";
import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw } from "vue-router";
import { locale, t } from "./lib/i18n";
import type { MessageKey } from "./lib/locales/en";
import DrinkView from "./views/DrinkView.vue";
import JoinView from "./views/JoinView.vue";
import MenuView from "./views/MenuView.vue";
import OrdersView from "./views/OrdersView.vue";

export const routes: RouteRecordRaw[] = [
  { path: "/", name: "menu", component: MenuView, meta: { title: "Menu", titleKey: "title.menu" } },
  { path: "/drinks/:id", name: "drink", component: DrinkView, props: true, meta: { title: "Drink", titleKey: "title.drink" } },
  { path: "/orders", name: "orders", component: OrdersView, meta: { title: "My orders", titleKey: "title.orders" } },
  { path: "/join", name: "join", component: JoinView, meta: { title: "Join the bar", titleKey: "title.join" } },
  // The taste quiz is opened once or twice a night: a lazy chunk, out of the menu's bundle.
  { path: "/taste", name: "taste", component: () => import("./views/TasteView.vue"), meta: { title: "Your taste", titleKey: "title.taste" } },
  // The chat with the bartender: a lazy chunk too (docs/bartender.md).
  {
    path: "/bartender",
    name: "bartender",
    component: () => import("./views/BartenderView.vue"),
    meta: { title: "Ask the bartender", titleKey: "title.bartender" },
  },
  // The host's screens load on demand: guests' phones never download them.
  {
    path: "/admin",
    component: () => import("./views/AdminView.vue"),
    meta: { title: "Bar admin", titleKey: "a.brand", chrome: "none" },
    children: [
      { path: "", name: "admin", component: () => import("./views/admin/OrdersBoard.vue"), meta: { title: "Orders", titleKey: "a.nav.orders" } },
      { path: "menu", redirect: "/admin/menu/drinks" },
      {
        path: "menu/drinks",
        name: "admin-drinks",
        component: () => import("./views/admin/DrinksList.vue"),
        meta: { title: "Drinks", titleKey: "a.drinks.title" },
      },
      {
        path: "menu/drinks/new",
        name: "admin-drink-new",
        component: () => import("./views/admin/DrinkEditor.vue"),
        meta: { title: "New drink", titleKey: "a.editor.new" },
      },
      {
        path: "menu/drinks/:id",
        name: "admin-drink",
        component: () => import("./views/admin/DrinkEditor.vue"),
        props: true,
        meta: { title: "Edit drink", titleKey: "a.editor.edit" },
      },
      {
        path: "menu/sections",
        name: "admin-sections",
        component: () => import("./views/admin/SectionsList.vue"),
        meta: { title: "Sections", titleKey: "a.sections.title" },
      },
      {
        path: "menu/ingredients",
        name: "admin-ingredients",
        component: () => import("./views/admin/IngredientsList.vue"),
        meta: { title: "Ingredients", titleKey: "a.ingredients.title" },
      },
      { path: "invites", name: "admin-invites", component: () => import("./views/admin/InvitesView.vue"), meta: { title: "Invites", titleKey: "a.invites.title" } },
      { path: "bar", name: "admin-bar", component: () => import("./views/admin/BarSettings.vue"), meta: { title: "Bar settings", titleKey: "a.bar.title" } },
      { path: "numbers", name: "admin-numbers", component: () => import("./views/admin/NumbersView.vue"), meta: { title: "Tonight's numbers", titleKey: "a.numbers.title" } },
      { path: ":rest(.*)*", redirect: "/admin" },
    ],
  },
  {
    path: "/auth/callback",
    name: "auth-callback",
    component: () => import("./views/AuthCallback.vue"),
    meta: { title: "Signing in", chrome: "none" },
  },
  {
    path: "/display",
    name: "display",
    component: () => import("./views/DisplayView.vue"),
    meta: { title: "Bar display", titleKey: "a.display.signinTitle", chrome: "none" },
  },
  { path: "/:missing(.*)*", redirect: "/" },
];

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior(to, _from, saved) {
    if (saved) return saved;
    if (to.hash) return { el: to.hash, top: 120 };
    return { top: 0 };
  },
});

function pageTitle(to: RouteLocationNormalized): string {
  const key = to.meta.titleKey as MessageKey | undefined;
  const english = typeof to.meta.title === "string" ? to.meta.title : "";
  if (!key) return english;
  const text = t(key);
  return text === key ? english : text; // an admin page's words arrive with its chunk
}

function setTitle(to: RouteLocationNormalized): void {
  const title = pageTitle(to);
  document.title = title ? `${title} · drink-assistant` : "drink-assistant";
}

/**
 * After a navigation (not the first load, not a hash or query change on the same page),
 * focus moves to the new page's heading, so a screen reader announces it and Tab goes
 * on from there (WCAG 2.4.3). A page still loading its heading gets its <main> focused.
 */
function focusHeading(): void {
  const heading = document.querySelector<HTMLElement>("main h1") ?? document.querySelector<HTMLElement>("h1");
  const target = heading ?? document.querySelector<HTMLElement>("main");
  if (!target) return;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: true });
}

router.afterEach((to, from, failure) => {
  setTitle(to);
  if (failure || !from.matched.length || to.path === from.path) return;
  void nextTick(() => requestAnimationFrame(focusHeading));
});

watch(locale, () => setTitle(router.currentRoute.value));
