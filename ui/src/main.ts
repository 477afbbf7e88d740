import { mount } from "svelte";
import App from "./App.svelte";
import { chooseBackend } from "./lib/backend";
import { applyTheme, initialTheme } from "./lib/theme";
import "./app.css";

// Before anything is drawn, so a night-mode screen never flashes white.
applyTheme(initialTheme(), false);
const backend = await chooseBackend();
mount(App, { target: document.getElementById("app")!, props: { backend } });
