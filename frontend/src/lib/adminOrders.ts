/** The order queue in the console and on the TV: the calls and the live board. */
import { reactive } from "vue";
import { adminAuth, adminGet as get, adminSend as send, seg } from "./admin";
import { OrderBoard } from "./board";
import { config } from "./config";
import { createRealtimeClient } from "./realtime";
import type { Order, OrderStatus } from "./types";

export const ordersApi = {
  list: () => get<Order[]>("/admin/orders"),
  move: (id: string, status: OrderStatus, reason = "") =>
    send<Order>("PUT", `/admin/orders/${seg(id)}`, reason ? { status, reason } : { status }),
};

export const realtimeStatus = reactive({ state: "idle" });

/** A board on /orders/admin (poll fallback); the caller starts and stops it. */
export function makeBoard(onNewOrder?: (order: Order) => void): { board: OrderBoard; stop: () => void } {
  const realtime = createRealtimeClient(config().realtime, {
    token: () => adminAuth.token(),
    onState: (state) => (realtimeStatus.state = state),
  });
  const board = new OrderBoard({ fetchOrders: ordersApi.list, realtime, onNewOrder });
  const wake = () => {
    if (document.visibilityState === "visible") void board.wake();
  };
  document.addEventListener("visibilitychange", wake);
  board.start();
  return {
    board,
    stop: () => {
      document.removeEventListener("visibilitychange", wake);
      board.stop();
      realtime?.stop();
      realtimeStatus.state = "idle";
    },
  };
}
