import { createApp } from "vue";
import App from "./App.vue";
import { loadConfig } from "./lib/config";
import { initLocale } from "./lib/i18n";
import { registerServiceWorker } from "./lib/network";
import { router } from "./router";
import "./styles.css";

initLocale(); // the remembered or the browser's language, before the first render
registerServiceWorker(); // installable, and the last menu stays readable offline
// The config says where the API is, so it comes first; it never blocks for long.
void loadConfig().then(() => {
  createApp(App).use(router).mount("#app");
});
