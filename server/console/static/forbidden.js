// @ts-check
/** The 403 page: words in the user's language. */
import { apply } from "./i18n.js";

apply();
