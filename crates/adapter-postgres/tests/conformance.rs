//! The port conformance suite against the real PostgreSQL: each test gets its own database.

use reserva_adapter_postgres::test_support::TemporaryDatabase;

mod accounts {
    reserva_conformance::account_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod exams {
    reserva_conformance::exam_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod tickets {
    reserva_conformance::tickets_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod wallet {
    reserva_conformance::wallet_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod catalog {
    reserva_conformance::catalog_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod commerce {
    reserva_conformance::commerce_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod commerce_orders {
    reserva_conformance::commerce_orders_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod commerce_billing {
    reserva_conformance::commerce_billing_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}

mod commerce_checkout {
    reserva_conformance::commerce_checkout_store_tests!(async {
        super::TemporaryDatabase::create().await.into_store().await
    });
}
