import { mount } from "svelte";
import Console from "./Console.svelte";
import { applyTheme, initialTheme } from "../lib/theme";
import "../app.css";
import "./console.css";

// Before anything is drawn, so a dark-theme screen never flashes white.
applyTheme(initialTheme(), false);
mount(Console, { target: document.getElementById("console")! });
