import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import DrinkView from "./views/DrinkView.vue";
import JoinView from "./views/JoinView.vue";
import MenuView from "./views/MenuView.vue";
import OrdersView from "./views/OrdersView.vue";

export const routes: RouteRecordRaw[] = [
  { path: "/", name: "menu", component: MenuView, meta: { title: "Menu" } },
  { path: "/drinks/:id", name: "drink", component: DrinkView, props: true, meta: { title: "Drink" } },
  { path: "/orders", name: "orders", component: OrdersView, meta: { title: "My orders" } },
  { path: "/join", name: "join", component: JoinView, meta: { title: "Join the bar" } },
  // The taste quiz is opened once or twice a night: a lazy chunk, out of the menu's bundle.
  { path: "/taste", name: "taste", component: () => import("./views/TasteView.vue"), meta: { title: "Your taste" } },
  // The chat with the bartender: a lazy chunk too (docs/bartender.md).
  {
    path: "/bartender",
    name: "bartender",
    component: () => import("./views/BartenderView.vue"),
    meta: { title: "Ask the bartender" },
  },
  // The host's screens load on demand: guests' phones never download them.
  {
    path: "/admin",
    component: () => import("./views/AdminView.vue"),
    meta: { title: "Bar admin", chrome: "none" },
    children: [
      { path: "", name: "admin", component: () => import("./views/admin/OrdersBoard.vue"), meta: { title: "Orders" } },
      { path: "menu", redirect: "/admin/menu/drinks" },
      {
        path: "menu/drinks",
        name: "admin-drinks",
        component: () => import("./views/admin/DrinksList.vue"),
        meta: { title: "Drinks" },
      },
      {
        path: "menu/drinks/new",
        name: "admin-drink-new",
        component: () => import("./views/admin/DrinkEditor.vue"),
        meta: { title: "New drink" },
      },
      {
        path: "menu/drinks/:id",
        name: "admin-drink",
        component: () => import("./views/admin/DrinkEditor.vue"),
        props: true,
        meta: { title: "Edit drink" },
      },
      {
        path: "menu/sections",
        name: "admin-sections",
        component: () => import("./views/admin/SectionsList.vue"),
        meta: { title: "Sections" },
      },
      {
        path: "menu/ingredients",
        name: "admin-ingredients",
        component: () => import("./views/admin/IngredientsList.vue"),
        meta: { title: "Ingredients" },
      },
      { path: "invites", name: "admin-invites", component: () => import("./views/admin/InvitesView.vue"), meta: { title: "Invites" } },
      { path: "bar", name: "admin-bar", component: () => import("./views/admin/BarSettings.vue"), meta: { title: "Bar settings" } },
      { path: "numbers", name: "admin-numbers", component: () => import("./views/admin/NumbersView.vue"), meta: { title: "Tonight's numbers" } },
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
    meta: { title: "Bar display", chrome: "none" },
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

router.afterEach((to) => {
  const title = typeof to.meta.title === "string" ? to.meta.title : "";
  document.title = title ? `${title} · drink-assistant` : "drink-assistant";
});
