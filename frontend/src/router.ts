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
  // The host's screens load on demand: guests' phones never download them.
  {
    path: "/admin/:rest(.*)*",
    name: "admin",
    component: () => import("./views/AdminView.vue"),
    meta: { title: "Bar admin", chrome: "none" },
  },
  {
    path: "/auth/callback",
    name: "auth-callback",
    component: () => import("./views/AdminView.vue"),
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
