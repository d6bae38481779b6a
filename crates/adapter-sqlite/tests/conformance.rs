//! The port conformance suite against SQLite files: each test gets its own file.

mod support;

mod accounts {
    reserva_conformance::account_store_tests!(super::support::fresh());
}

mod catalog {
    reserva_conformance::catalog_store_tests!(super::support::fresh());
}

mod commerce {
    reserva_conformance::commerce_store_tests!(super::support::fresh());
}

mod exams {
    reserva_conformance::exam_store_tests!(super::support::fresh());
}

mod tickets {
    reserva_conformance::tickets_store_tests!(super::support::fresh());
}

mod wallet {
    reserva_conformance::wallet_store_tests!(super::support::fresh());
}

mod commerce_orders {
    reserva_conformance::commerce_orders_store_tests!(super::support::fresh());
}

mod commerce_billing {
    reserva_conformance::commerce_billing_store_tests!(super::support::fresh());
}

mod commerce_checkout {
    reserva_conformance::commerce_checkout_store_tests!(super::support::fresh());
}
