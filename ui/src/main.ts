import { mount } from "svelte";
import App from "./App.svelte";
import { chooseBackend } from "./lib/backend";
import "./app.css";

const backend = await chooseBackend();
mount(App, { target: document.getElementById("app")!, props: { backend } });
