import { createApp } from "vue";
import App from "./App.vue";
import { loadConfig } from "./lib/config";
import { router } from "./router";
import "./styles.css";

// The config says where the API is, so it comes first; it never blocks for long.
void loadConfig().then(() => {
  createApp(App).use(router).mount("#app");
});
